"""Audio for calls: G.711 codecs, jitter buffer, prompt playback, crash-safe WAV recording."""
