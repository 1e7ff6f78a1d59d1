"""Jobs a request commits are sent after its response (see outbox.services)."""

from .services import jobs_after_response, jobs_send_collected


class JobsAfterResponseMiddleware:
    """The response goes out first; the WSGI server's close() then publishes the jobs,
    so the client never waits on Redis."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with jobs_after_response() as collected:
            response = self.get_response(request)
        if collected:
            # Django's own hook: run by response.close(), before request_finished.
            response._resource_closers.append(lambda: jobs_send_collected(collected))
        return response
