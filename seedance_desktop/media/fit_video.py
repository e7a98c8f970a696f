"""Re-encode a range of a video to fal's limits: upright, cropped, scaled, H.264 + AAC in MP4.

All pixel work runs in FFmpeg's filter graph (transpose for the rotation flag, crop, scale to
yuv420p), so a 10-bit HEVC phone clip comes out as 8-bit H.264. The output has a constant frame
rate: frame i shows the last source frame at or before i / fps, so a variable-frame-rate phone
clip keeps its timing. Sound is resampled to 48 kHz stereo and cut to the range exactly (the last
AAC frame is a short one). Unlike media/encode.py, the encoder may use every core: the fitted
file is found again by its key (source and settings), not by its bytes.
"""

from __future__ import annotations

import os
import queue
import threading
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from seedance_desktop.domain.fit import FitPlan
from seedance_desktop.media.fit_errors import FitError, Progress, check_cancel

_Packet = Any  # av.Packet (its stubs make it generic on some versions)
AUDIO_RATE = 48_000
_AAC_FRAME = 1024
PRESET = "veryfast"  # the benchmark's ffmpeg baseline uses the same
ENCODER_THREADS = "AUTO"
# Each x264 frame thread holds frames of its own: two keep both cores busy in less memory.
ENCODER_THREAD_COUNT = max(2, min(4, os.cpu_count() or 2))


def fit_video(
    source: Path,
    target: Path,
    plan: FitPlan,
    name: str,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> None:
    """Write `target` (a new file) from `source` as `plan` says. Raises FitError."""
    assert plan.width and plan.height and plan.fps and plan.end_s is not None
    seconds = plan.end_s - plan.start_s
    total_frames = max(1, round(seconds * plan.fps))
    with av.open(str(source), metadata_errors="ignore") as container:
        if not container.streams.video:
            raise FitError(f"{name} holds no video picture to fit.")
        video_in = container.streams.video[0]
        video_in.thread_type = "AUTO"
        has_audio = bool(container.streams.audio)
        with av.open(str(target), "w", format="mp4", options={"movflags": "+faststart"}) as out:
            out.metadata.clear()
            video_out = out.add_stream("libx264", rate=plan.fps)
            video_out.width, video_out.height, video_out.pix_fmt = (
                plan.width,
                plan.height,
                "yuv420p",
            )
            kbps = plan.video_kbps or 2000
            video_out.options = {
                "preset": PRESET,
                "crf": "20",
                "maxrate": f"{kbps}k",
                "bufsize": f"{kbps}k",
                "threads": str(ENCODER_THREAD_COUNT),
            }
            video_out.codec_context.time_base = Fraction(1, plan.fps)
            # Frame threads, as the ffmpeg program uses (PyAV's default, slices, is slower).
            video_out.codec_context.thread_type = ENCODER_THREADS
            sound = None
            if has_audio:
                audio_out = out.add_stream("aac", rate=AUDIO_RATE)
                audio_out.layout = "stereo"
                sound = _SoundWorker(source, audio_out, plan, cancel)
            writer = _Writer(out, video_out, plan, total_frames, progress, cancel, sound)
            if sound is not None:
                sound.start()
            try:
                if plan.start_s > 0:
                    container.seek(int(plan.start_s * av.time_base))  # the keyframe before
                for packet in container.demux(video_in):
                    check_cancel(cancel)
                    for frame in packet.decode():
                        writer.video_frame(frame)
                    if writer.done:
                        break
                writer.finish()
            finally:
                if sound is not None:
                    sound.stop()


class _Writer:
    """The pictures: constant rate out, through the filter graph, into the encoder; the sound
    worker's packets are muxed between them as they come (so the file stays interleaved)."""

    def __init__(
        self,
        out: av.container.OutputContainer,
        video: av.video.stream.VideoStream,
        plan: FitPlan,
        total_frames: int,
        progress: Progress | None,
        cancel: threading.Event | None,
        sound: _SoundWorker | None,
    ) -> None:
        self.out, self.video, self.plan, self.sound = out, video, plan, sound
        self.total_frames = total_frames
        self.progress, self.cancel = progress, cancel
        self.fps = plan.fps or 30
        self.next_index = 0
        self.pending: av.VideoFrame | None = None
        self.graph: av.filter.Graph | None = None

    @property
    def done(self) -> bool:
        return self.next_index >= self.total_frames

    def video_frame(self, frame: av.VideoFrame) -> None:
        if self.next_index >= self.total_frames or frame.time is None:
            return
        at = frame.time - self.plan.start_s
        if self.pending is not None:
            count = 0
            while self.next_index + count < self.total_frames and (
                (self.next_index + count) / self.fps < at - 1e-6
            ):
                count += 1
            self._emit(self.pending, count)
        self.pending = frame

    def _emit(self, frame: av.VideoFrame, count: int) -> None:
        if count <= 0:
            return
        picture = self._filtered(frame)
        for _ in range(count):
            check_cancel(self.cancel)
            picture.pts = self.next_index
            picture.time_base = Fraction(1, self.fps)
            self.next_index += 1
            for packet in self.video.encode(picture):
                self.out.mux(packet)
            self._mux_sound()
            if self.progress is not None and self.next_index % 15 == 0:
                self.progress(min(0.99, self.next_index / self.total_frames))

    def _mux_sound(self, *, wait: bool = False) -> None:
        if self.sound is not None:
            for packet in self.sound.packets(wait=wait):
                self.out.mux(packet)

    def _filtered(self, frame: av.VideoFrame) -> av.VideoFrame:
        if self.graph is None:
            self.graph = self._build_graph(frame)
        frame.pts = None  # the graph keeps no timing of its own; _emit stamps each frame
        self.graph.vpush(frame)
        result: av.VideoFrame = self.graph.vpull()
        return result

    def _build_graph(self, frame: av.VideoFrame) -> av.filter.Graph:
        graph = av.filter.Graph()
        nodes = [
            graph.add_buffer(
                width=frame.width,
                height=frame.height,
                format=frame.format,
                time_base=Fraction(1, self.fps),
            )
        ]
        turn = round((frame.rotation or 0) / 90) % 4  # counter-clockwise quarter turns
        if turn == 1:
            nodes.append(graph.add("transpose", "cclock"))
        elif turn == 2:
            nodes += [graph.add("hflip"), graph.add("vflip")]
        elif turn == 3:
            nodes.append(graph.add("transpose", "clock"))
        crop = self.plan.crop
        if crop is not None:
            nodes.append(graph.add("crop", f"{crop.width}:{crop.height}:{crop.x}:{crop.y}"))
        nodes.append(graph.add("scale", f"{self.plan.width}:{self.plan.height}:flags=bicubic"))
        nodes.append(graph.add("format", "yuv420p"))
        nodes.append(graph.add("buffersink"))
        graph.link_nodes(*nodes).configure()
        return graph

    def finish(self) -> None:
        if self.pending is not None:
            self._emit(self.pending, self.total_frames - self.next_index)
        if self.next_index == 0:
            raise FitError("no picture could be decoded in the chosen range")
        for packet in self.video.encode():
            self.out.mux(packet)
        self._mux_sound(wait=True)
        if self.progress is not None:
            self.progress(1.0)


class _SoundWorker:
    """The sound, on a thread of its own (PyAV decodes and encodes without the GIL): its own
    reading of the source, resampled to 48 kHz stereo, cut to the range to the sample, encoded
    to AAC; the packets wait in a queue for the picture thread to mux."""

    def __init__(
        self,
        source: Path,
        stream: av.audio.stream.AudioStream,
        plan: FitPlan,
        cancel: threading.Event | None,
    ) -> None:
        assert plan.end_s is not None
        self.source, self.stream, self.plan = source, stream, plan
        self.cancel = cancel
        self.total = round((plan.end_s - plan.start_s) * AUDIO_RATE)
        self.written = 0
        self.chunks: list[np.ndarray] = []
        self.buffered = 0
        self.position: int | None = None  # samples since the range start
        self.queue: queue.Queue[_Packet | None] = queue.Queue()
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fit-sound", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def packets(self, *, wait: bool) -> list[_Packet]:
        """The packets ready now; with `wait`, all of them (the sound's end)."""
        found: list[_Packet] = []
        if wait:
            self._thread.join()
            if self.error is not None:
                raise self.error
        while True:
            try:
                packet = self.queue.get_nowait()
            except queue.Empty:
                return found
            if packet is not None:
                found.append(packet)

    def _run(self) -> None:
        try:
            self._work()
        except BaseException as exc:  # raised again on the picture thread
            self.error = exc

    def _work(self) -> None:
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE)
        with av.open(str(self.source), metadata_errors="ignore") as container:
            stream = container.streams.audio[0]
            if self.plan.start_s > 0:
                container.seek(int(self.plan.start_s * av.time_base))
            for frame in container.decode(stream):
                if self._stop.is_set() or self.written >= self.total:
                    break
                check_cancel(self.cancel)
                if self.position is None:
                    self.position = round(((frame.time or 0.0) - self.plan.start_s) * AUDIO_RATE)
                frame.pts = None  # resample by sample count; odd timestamps must not add gaps
                for piece in resampler.resample(frame):
                    self._take(piece.to_ndarray())
        self._write(final=True)
        for packet in self.stream.encode():
            self.queue.put(packet)

    def _take(self, samples: np.ndarray) -> None:
        assert self.position is not None
        if self.position < 0:  # before the range start: drop what comes before it
            drop = min(samples.shape[1], -self.position)
            samples = samples[:, drop:]
            self.position += drop
            if self.position < 0:
                return
        have = self.written + self.buffered
        if self.position > have:  # the sound starts after the range start: silence first
            self._append(np.zeros((2, self.position - have), np.float32))
        self._append(samples[:2])
        self.position += samples.shape[1]
        self._write(final=False)

    def _append(self, samples: np.ndarray) -> None:
        self.chunks.append(samples)
        self.buffered += samples.shape[1]

    def _write(self, *, final: bool) -> None:
        left = self.total - self.written
        if final and self.buffered < left:
            self._append(np.zeros((2, left - self.buffered), np.float32))
        if self.buffered < _AAC_FRAME and not final:
            return
        sound = np.concatenate(self.chunks, axis=1) if self.chunks else np.zeros((2, 0))
        start = 0
        while self.written < self.total:
            size = min(_AAC_FRAME, self.total - self.written)
            if sound.shape[1] - start < size or (size < _AAC_FRAME and not final):
                break
            piece = np.ascontiguousarray(np.clip(sound[:, start : start + size], -1.0, 1.0))
            start += size
            out = av.AudioFrame.from_ndarray(piece, format="fltp", layout="stereo")
            out.sample_rate = AUDIO_RATE
            out.pts = self.written
            out.time_base = Fraction(1, AUDIO_RATE)
            self.written += size
            for packet in self.stream.encode(out):
                self.queue.put(packet)
        rest = sound[:, start:]
        self.chunks = [rest] if rest.shape[1] else []
        self.buffered = rest.shape[1]
