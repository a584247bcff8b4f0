"""Route modules: ``avatars`` (the job API) and ``web`` (the page at ``/``)."""
