"""Rate limiting: sliding window, sliding log, token bucket and fixed window, in memory or
Redis."""
