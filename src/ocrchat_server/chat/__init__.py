"""Chat with a finished job: retrieval, answerers, conversations."""
