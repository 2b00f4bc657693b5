"""The one error type whose message is meant for the user."""


class UserError(Exception):
    """Bad input from a user: the message is shown as-is, on one line, with the usage."""

    def __init__(self, message: str, usage: str = "") -> None:
        super().__init__(message)
        self.message = " ".join(message.split())
        self.usage = usage
