"""The SIP extension: aiosipua + our seam fixes, RTP on one shared media clock (see engine.py)."""
