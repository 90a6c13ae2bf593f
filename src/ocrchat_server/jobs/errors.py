"""What the jobs layer refuses or fails with. ``http.errors`` maps each to its status."""

from __future__ import annotations

from ocrchat_server.errors import ServiceError


class JobsError(ServiceError):
    pass


class InvalidRequestError(JobsError):
    """A parameter or the file cannot make a job; ``code`` names which (``invalid_tier``...)."""

    code = "bad_request"


class UnsupportedLanguageError(InvalidRequestError):
    """No model on this server reads (or translates into) the language asked for."""

    code = "unsupported_language"


class QuotaExceededError(JobsError):
    """The plan's allowance (or its pages per file) would be overrun; nothing was charged."""

    code = "quota_exceeded"


class TooManyQueuedPagesError(JobsError):
    """The account has too many pages waiting already; nothing was charged."""

    code = "too_many_queued_pages"


class TierUnavailableError(JobsError):
    """The tier asked for cannot take work now (its inference server is down or loading)."""

    code = "tier_unavailable"


class InsufficientStorageError(JobsError):
    """The server's disk is full: the upload was not kept and nothing was charged."""

    code = "insufficient_storage"


class JobNotFoundError(JobsError):
    """No such job, or another account's: the same answer, so ids cannot be probed."""

    code = "not_found"

    def __init__(self) -> None:
        super().__init__("No job with that id exists for this account.")


class JobNotDoneError(JobsError):
    """The job has no result (yet, or at all)."""

    code = "job_not_done"


class FailedJobError(JobNotDoneError):
    """The job failed, so it has no result: the message is the job's own error."""

    code = "job_failed"


class PlanNotConfiguredError(JobsError):
    """The account's plan is missing from the server's plans: the operator's slip."""

    code = "plan_not_configured"


class TokenNotFoundError(JobsError):
    """No such token, or another account's: the same answer, so key ids cannot be probed."""

    code = "token_not_found"

    def __init__(self) -> None:
        super().__init__("No API token with that key id exists for this account.")


class TooManyTokensError(JobsError):
    """The account holds as many API tokens as it may: revoke one first."""

    code = "too_many_tokens"

    def __init__(self, cap: int) -> None:
        super().__init__(
            f"The account has {cap} API tokens, the most it may hold: revoke one first.",
            cap=cap,
        )


class LastTokenError(JobsError):
    """The token is the account's last: revoking it would leave no way to sign in (an
    operator can still make one with ``ocrchat-server tokens create``)."""

    code = "last_token"

    def __init__(self) -> None:
        super().__init__("This is the account's only API token: create another before revoking it.")
