"""Re-encode a range of a video to fal's limits: upright, cropped, scaled, H.264 + AAC in MP4.

All pixel work runs in FFmpeg's filter graph (transpose for the rotation flag, crop, scale to
yuv420p), so a 10-bit HEVC phone clip comes out as 8-bit H.264. The output has a constant frame
rate: frame i shows the last source frame at or before i / fps, so a variable-frame-rate phone
clip keeps its timing. Sound is resampled to 48 kHz stereo and cut to the range exactly (the last
AAC frame is a short one). Unlike media/encode.py, the encoder may use every core: the fitted
file is found again by its key (source and settings), not by its bytes.
"""

from __future__ import annotations

import threading
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from seedance_desktop.domain.fit import FitPlan
from seedance_desktop.media.fit_errors import FitError, Progress, check_cancel

AUDIO_RATE = 48_000
_AAC_FRAME = 1024
PRESET = "veryfast"  # the benchmark's ffmpeg baseline uses the same


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
        audio_in = container.streams.audio[0] if container.streams.audio else None
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
            }
            video_out.codec_context.time_base = Fraction(1, plan.fps)
            audio_out = None
            if audio_in is not None:
                audio_out = out.add_stream("aac", rate=AUDIO_RATE)
                audio_out.layout = "stereo"
            writer = _Writer(out, video_out, audio_out, plan, total_frames, progress, cancel)
            if plan.start_s > 0:
                container.seek(int(plan.start_s * av.time_base))  # the keyframe before
            streams = [video_in] + ([audio_in] if audio_in is not None else [])
            for packet in container.demux(*streams):
                check_cancel(cancel)
                if packet.stream is video_in:
                    for frame in packet.decode():
                        writer.video_frame(frame)  # type: ignore[arg-type]
                elif audio_in is not None:
                    for frame in packet.decode():
                        writer.audio_frame(frame)  # type: ignore[arg-type]
                if writer.done:
                    break
            writer.finish()


class _Writer:
    def __init__(
        self,
        out: av.container.OutputContainer,
        video: av.video.stream.VideoStream,
        audio: av.audio.stream.AudioStream | None,
        plan: FitPlan,
        total_frames: int,
        progress: Progress | None,
        cancel: threading.Event | None,
    ) -> None:
        self.out, self.video, self.audio, self.plan = out, video, audio, plan
        self.total_frames = total_frames
        self.progress, self.cancel = progress, cancel
        self.fps = plan.fps or 30
        self.next_index = 0
        self.pending: av.VideoFrame | None = None
        self.graph: av.filter.Graph | None = None
        assert plan.end_s is not None
        self.total_samples = round((plan.end_s - plan.start_s) * AUDIO_RATE)
        self.samples_written = 0
        self.audio_buffer = np.zeros((2, 0), np.float32)
        self.audio_position: int | None = None  # samples since the range start
        self.resampler = av.AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE)

    @property
    def done(self) -> bool:
        video_done = self.next_index >= self.total_frames
        audio_done = self.audio is None or self.samples_written >= self.total_samples
        return video_done and audio_done

    # Pictures ----------------------------------------------------------------------------------

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
            if self.progress is not None and self.next_index % 15 == 0:
                self.progress(min(0.99, self.next_index / self.total_frames))

    def _filtered(self, frame: av.VideoFrame) -> av.VideoFrame:
        if self.graph is None:
            self.graph = self._build_graph(frame)
        frame.pts = None  # the graph keeps no timing of its own; _emit stamps each frame
        self.graph.vpush(frame)
        result = self.graph.vpull()
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

    # Sound -------------------------------------------------------------------------------------

    def audio_frame(self, frame: av.AudioFrame) -> None:
        if self.audio is None or self.samples_written >= self.total_samples:
            return
        if self.audio_position is None:
            at = (frame.time or 0.0) - self.plan.start_s
            self.audio_position = round(at * AUDIO_RATE)
        frame.pts = None  # resample by sample count; odd timestamps must not add gaps
        for piece in self.resampler.resample(frame):
            self._take(piece.to_ndarray())

    def _take(self, samples: np.ndarray) -> None:
        assert self.audio_position is not None
        if self.audio_position < 0:  # before the range start: drop what comes before it
            drop = min(samples.shape[1], -self.audio_position)
            samples = samples[:, drop:]
            self.audio_position += drop
            if self.audio_position < 0:
                return
        buffered = self.samples_written + self.audio_buffer.shape[1]
        if self.audio_position > buffered:  # sound starts after the range start: silence first
            gap = np.zeros((2, self.audio_position - buffered), np.float32)
            self.audio_buffer = np.concatenate([self.audio_buffer, gap], axis=1)
        self.audio_buffer = np.concatenate([self.audio_buffer, samples[:2]], axis=1)
        self.audio_position += samples.shape[1]
        self._write_audio(final=False)

    def _write_audio(self, *, final: bool) -> None:
        assert self.audio is not None
        left = self.total_samples - self.samples_written
        if final and self.audio_buffer.shape[1] < left:
            pad = np.zeros((2, left - self.audio_buffer.shape[1]), np.float32)
            self.audio_buffer = np.concatenate([self.audio_buffer, pad], axis=1)
        while self.samples_written < self.total_samples:
            size = min(_AAC_FRAME, self.total_samples - self.samples_written)
            if self.audio_buffer.shape[1] < size or (size < _AAC_FRAME and not final):
                break
            piece = np.ascontiguousarray(np.clip(self.audio_buffer[:, :size], -1.0, 1.0))
            self.audio_buffer = self.audio_buffer[:, size:]
            out = av.AudioFrame.from_ndarray(piece, format="fltp", layout="stereo")
            out.sample_rate = AUDIO_RATE
            out.pts = self.samples_written
            out.time_base = Fraction(1, AUDIO_RATE)
            self.samples_written += size
            for packet in self.audio.encode(out):
                self.out.mux(packet)

    # The end -----------------------------------------------------------------------------------

    def finish(self) -> None:
        if self.pending is not None:
            self._emit(self.pending, self.total_frames - self.next_index)
        if self.next_index == 0:
            raise FitError("no picture could be decoded in the chosen range")
        for packet in self.video.encode():
            self.out.mux(packet)
        if self.audio is not None:
            self._write_audio(final=True)
            for packet in self.audio.encode():
                self.out.mux(packet)
        if self.progress is not None:
            self.progress(1.0)
