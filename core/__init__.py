"""What the apps share and that is not about sockets: the error type and the API's error
format, pagination and throttles, the OpenAPI schema's settings, the error pages, request
checks and client address, the admin site, the cache, text and query helpers. It imports no
app, nothing of the real-time kernel, and not the composition root (config)."""
