from ocrchat_server.cli import main

main()
