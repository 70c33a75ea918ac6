"""Rooms past the mesh: Janus as the media server, commanded by this server alone."""
