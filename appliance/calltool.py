"""`desborde call`: a command-line test caller, so the whole flow can be tried without a PBX.

It dials the appliance (or any SIP URI) from its own SIP engine on a free port, follows a small
script — `wait 1; press 2; wait 8; say message.wav; press #; wait 15` — and can save what it heard
as a WAV. The call ends when the far end hangs up or the script is done.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from appliance.adapters.media.prompts import load_pcm16, split_frames
from appliance.adapters.media.recorder import WavRecorder
from appliance.adapters.sip.engine import EngineConfig, SipEngine
from appliance.adapters.sip.mediapath import default_kit
from appliance.errors import ApplianceError
from appliance.ports.telephony import CallLeg, PlaybackFinished, RemoteHangup

log = logging.getLogger(__name__)

DIGIT_SPACING_S = 0.3


@dataclass(frozen=True)
class Step:
    verb: str  # wait | press | say
    argument: str


def parse_script(text: str) -> list[Step]:
    """`wait S`, `press DIGITS`, `say FILE.wav`, separated by ';' or new lines."""
    steps = []
    for raw in text.replace("\n", ";").split(";"):
        part = raw.strip()
        if not part:
            continue
        verb, _, argument = part.partition(" ")
        argument = argument.strip()
        if verb == "wait":
            float(argument)  # raises ValueError with the bad number
        elif verb == "press":
            if not argument or any(c not in "0123456789*#ABCD" for c in argument):
                raise ValueError(f"press needs DTMF digits, got {argument!r}")
        elif verb != "say" or not argument:
            raise ValueError(f"unknown step {part!r} (use wait S, press DIGITS, say FILE.wav)")
        steps.append(Step(verb, argument))
    return steps


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--to", default="sip:100@127.0.0.1:5060",
                        help="whom to call (default: the demo on sip:100@127.0.0.1:5060)")
    parser.add_argument("--from", dest="caller", default="+56912345678",
                        help="caller ID to present")
    parser.add_argument("--script", default="wait 1; press 2; wait 9; press #; wait 20",
                        help="steps: wait S; press DIGITS; say FILE.wav (8 kHz mono 16-bit)")
    parser.add_argument("--save-heard", type=Path, help="write what the far end played to this WAV")
    parser.add_argument("--ring-timeout", type=float, default=30.0)


async def _run_steps(leg: CallLeg, steps: list[Step], hung_up: asyncio.Event,
                     played: asyncio.Queue[None]) -> None:
    for step in steps:
        if hung_up.is_set():
            return
        print(f"> {step.verb} {step.argument}", flush=True)
        if step.verb == "wait":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(hung_up.wait(), float(step.argument))
        elif step.verb == "press":
            for digit in step.argument:
                leg.send_digit(digit)
                await asyncio.sleep(DIGIT_SPACING_S)
        else:
            leg.play(split_frames(load_pcm16(Path(step.argument))), barge_in=False)
            await played.get()


async def place_call(args: argparse.Namespace) -> int:
    steps = parse_script(args.script)
    engine = SipEngine(EngineConfig(port=_free_udp_port(), rtp_low=40000, rtp_high=40999,
                                    extension="desborde-call"), default_kit())
    await engine.start()
    recorder = WavRecorder(args.save_heard) if args.save_heard else None
    try:
        result = await engine.dial(args.to, caller_id=args.caller, display_name="desborde call",
                                   ring_timeout=args.ring_timeout)
        print(f"dialled {args.to}: {result.outcome} ({result.status})", flush=True)
        if result.leg is None:
            return 1
        leg = result.leg
        if recorder is not None:
            leg.listen(recorder.write_frame)
        hung_up, played = asyncio.Event(), asyncio.Queue[None]()

        async def watch() -> None:
            async for event in leg.events():
                if isinstance(event, PlaybackFinished):
                    played.put_nowait(None)
                elif isinstance(event, RemoteHangup):
                    print("the far end hung up", flush=True)
                    hung_up.set()
            hung_up.set()

        watcher = asyncio.create_task(watch())
        await _run_steps(leg, steps, hung_up, played)
        if not hung_up.is_set():
            await leg.hangup()
        watcher.cancel()
        return 0
    finally:
        if recorder is not None:
            info = await asyncio.to_thread(recorder.close)
            print(f"heard {info.seconds:.1f} s, saved to {info.path}", flush=True)
        await engine.stop()


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run_call(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(place_call(args))
    except (ApplianceError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
