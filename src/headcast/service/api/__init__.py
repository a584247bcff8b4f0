"""The HTTP gateway (FastAPI): thin routes over the job store and the files on disk; no numeric imports."""
