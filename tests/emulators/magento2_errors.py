"""Magento 2 error bodies and the messages the emulator answers with.

Body shape (Framework\\Webapi\\Rest\\Response::_renderMessages): keys in this
order, each only when present: message, errors [{message, parameters}], code,
parameters.  Messages keep their %1 / %name placeholders; clients substitute
the parameters (a list for %1.., an object for %name).
"""

import os

from emucommon import HttpError

# messages as Magento 2.4 words them
NO_ROUTE = "Request does not match any route."
NOT_AUTHORIZED = "The consumer isn't authorized to access %resources."
ORDER_NOT_FOUND = "The entity that was requested doesn't exist. Verify the entity and try again."
PRODUCT_NOT_FOUND = "The product that was requested doesn't exist. Verify the product and try again."
NO_SUCH_ENTITY = "No such entity with %fieldName = %fieldValue"
REQUIRED = '"%fieldName" is required. Enter and try again.'
AGGREGATE = "One or more input exceptions have occurred."
BAD_LOGIN = ("The account sign-in was incorrect or your account is disabled temporarily. "
             "Please wait and try again later.")
TFA_USE_PROVIDER = "Please use the 2fa provider-specific endpoints to obtain a token."
DECODING_ERROR = "Decoding error."
CONTENT_TYPE_EMPTY = "Content-Type header is empty."
CONTENT_TYPE_INVALID = "Content-Type header is invalid."
CHARSET_UNSUPPORTED = "UTF-8 is the only supported charset."
MEDIA_TYPE_UNSUPPORTED = "Server cannot understand Content-Type HTTP header media type %1"


class MagentoError(HttpError):
    """An HTTP error with Magento's body."""

    def __init__(self, status, message, parameters=None, errors=None, code=None, headers=None):
        body = {"message": message}
        if errors:
            body["errors"] = [{"message": m, "parameters": p if p is not None else []} for m, p in errors]
        if code:
            body["code"] = code
        if parameters:
            body["parameters"] = parameters
        super().__init__(status, body, headers)


def required_field_error(field):
    return MagentoError(400, REQUIRED, {"fieldName": field})


def input_errors(status, messages):
    """Magento's InputException: one error -> its own message; several -> aggregated."""
    if len(messages) == 1:
        message, params = messages[0]
        return MagentoError(status, message, params)
    return MagentoError(status, AGGREGATE, errors=messages)


def not_authorized(resources):
    return MagentoError(401, NOT_AUTHORIZED, {"resources": ", ".join(resources)})


def internal_error():
    """A non-Magento exception in production mode: 500 with a report id."""
    return MagentoError(500, "Internal Error. Details are available in Magento log file. Report ID: "
                             "webapi-%s" % os.urandom(6).hex())
