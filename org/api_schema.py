"""The OpenAPI schema says what errors answer: every operation lists the statuses the
API's one error body (org.api_errors) comes with, so a client can rely on them."""

ERROR_BODY = {
    "type": "object",
    "description": "The API's one error body.",
    "properties": {
        "detail": {"type": "string", "description": "A readable sentence."},
        "code": {"type": "string", "description": "A machine code, e.g. invalid."},
        "errors": {
            "type": "object",
            "additionalProperties": True,
            "description": "Messages per field (nested for lines); empty when none.",
        },
    },
    "required": ["detail", "code", "errors"],
}

_DESCRIPTIONS = {
    "400": "Invalid input: field messages in `errors`; nothing was written.",
    "401": "Not signed in.",
    "403": "Your role or sites do not allow this.",
    "404": "No such record at your sites.",
    "409": "Conflicts with the current state (stock short, id already used, already done).",
    "413": "The body is larger than DATA_UPLOAD_MAX_MEMORY_SIZE.",
}
_WRITES = ("post", "put", "patch", "delete")


def document_errors(result, generator, request, public):
    """drf-spectacular postprocessing hook: the error responses of every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["ErrorBody"] = ERROR_BODY
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in ("get", *_WRITES):
                continue
            # 404 everywhere: a record out of reach, a page past the end of a list.
            statuses = ["400", "401", "403", "404"]
            if method in _WRITES:
                statuses += ["409", "413"]
            responses = operation.setdefault("responses", {})
            for status in statuses:
                response = responses.setdefault(status, {"description": _DESCRIPTIONS[status]})
                response.setdefault("content", content)
    return result
