"""Local stand-ins of ours for services that cannot run here; each records what it was sent."""
