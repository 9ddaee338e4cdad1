"""Adapters between the outside world and the engine: channel intake and outbound delivery."""
