"""What the account routes' documentation shows: request bodies that work as they are in
/docs' "Try it out" (the login example's account is the one the others act for), and the
problems each route answers, worded as it answers them (tests/test_examples.py sends every
one and compares)."""

from ..errors import EXAMPLE_DETAILS, example, invalid_example, problem_example
from ..throttles import (
    LOGIN_PER_EMAIL_AND_ADDRESS,
    PASSWORD_CHECK_PER_USER,
    SIGNUP_PER_ADDRESS,
    Throttled,
)
from .store import EmailTaken

EMAIL, PASSWORD = "ada@example.com", "correct horse battery"
WRONG_PASSWORD = "not my password"
# These messages are the routes' own (routes.py), as are their wrong-password answers.
BAD_CREDENTIALS = "Incorrect email or password."
BAD_PASSWORD = "The password is incorrect."
NO_TOKEN = problem_example(401, EXAMPLE_DETAILS[401])


def throttled(setting: str) -> dict:
    return {"throttled": problem_example(429, Throttled(setting, 42).sentence)}


SIGNUP = {
    "account": example("A new account", {"email": "grace@example.com", "password": PASSWORD}),
    "emailTaken": example("The login example's email", {"email": EMAIL, "password": PASSWORD}),
}
SIGNUP_PROBLEMS = {
    409: {"emailTaken": problem_example(409, str(EmailTaken()))},
    422: {
        "notAnEmail": invalid_example(
            "An email that is not one", {"email": ["Not a valid email address."]}
        )
    },
    429: throttled(SIGNUP_PER_ADDRESS),
}
LOGIN = {
    "credentials": example(
        "An account's email and password", {"email": EMAIL, "password": PASSWORD}
    ),
    "wrongPassword": example("Another password", {"email": EMAIL, "password": WRONG_PASSWORD}),
}
LOGIN_PROBLEMS = {
    401: {"wrongPassword": problem_example(401, BAD_CREDENTIALS)},
    429: throttled(LOGIN_PER_EMAIL_AND_ADDRESS),
}
# Routes that check the password again: a wrong one is a 401 of its own.
WRONG_PASSWORD_PROBLEMS = {
    401: {"noToken": NO_TOKEN, "wrongPassword": problem_example(401, BAD_PASSWORD)},
    429: throttled(PASSWORD_CHECK_PER_USER),
}
PASSWORD_CHANGE = {
    "newPassword": example(
        "The current password, and the new one",
        {"current_password": PASSWORD, "new_password": "battery staple horse"},
    ),
    "wrongPassword": example(
        "Another current password",
        {"current_password": WRONG_PASSWORD, "new_password": "battery staple horse"},
    ),
}
PASSWORD_CHECK = {
    "password": example("The account's password", {"password": PASSWORD}),
    "wrongPassword": example("Another password", {"password": WRONG_PASSWORD}),
}
PROFILE_CHANGES = {
    "zone": example("The user's time zone", {"timezone": "Europe/Paris"}),
    "utc": example("No zone of the user's own: UTC", {"timezone": None}),
    "unknownZone": example("A zone IANA does not know", {"timezone": "Mars/Olympus"}),
}
PROFILE_PROBLEMS = {
    422: {
        "unknownZone": invalid_example(
            "A zone IANA does not know",
            {
                "timezone": [
                    "Unknown time zone 'Mars/Olympus': use an IANA name such as Europe/Paris."
                ]
            },
        )
    }
}
