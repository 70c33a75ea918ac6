"""A password hasher that counts its work, to see how much hashing a sign-in costs."""

from django.contrib.auth.hashers import MD5PasswordHasher


class CountingHasher(MD5PasswordHasher):
    """Counts hash computations: making a hash and checking one (which hashes the candidate
    and compares) both go through `encode`."""

    algorithm = "counting_md5"
    calls = 0

    def encode(self, password, salt):
        CountingHasher.calls += 1
        return super().encode(password, salt)
