"""Client-side logic shared by every transport (pure: no sockets, no threads)."""

from net.client.session import ClientSession, LinkVerdict

__all__ = ["ClientSession", "LinkVerdict"]
