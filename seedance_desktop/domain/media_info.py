"""What a media probe found out about a file, as plain data (the probing itself lives in media/)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"


@dataclass(frozen=True)
class MediaInfo:
    """A readable media file. `format` is the container or image format found in the content."""

    kind: MediaKind
    format: str
    size_bytes: int
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None
    fps: float | None = None
    has_audio: bool = False
    video_codec: str | None = None
    audio_codec: str | None = None

    @property
    def pixels(self) -> int | None:
        if self.width is None or self.height is None:
            return None
        return self.width * self.height

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "format": self.format,
            "size_bytes": self.size_bytes,
            "width": self.width,
            "height": self.height,
            "duration_s": self.duration_s,
            "fps": self.fps,
            "has_audio": self.has_audio,
            "video_codec": self.video_codec,
            "audio_codec": self.audio_codec,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> MediaInfo:
        return cls(
            kind=MediaKind(str(data["kind"])),
            format=str(data["format"]),
            size_bytes=_int(data.get("size_bytes")) or 0,
            width=_int(data.get("width")),
            height=_int(data.get("height")),
            duration_s=_float(data.get("duration_s")),
            fps=_float(data.get("fps")),
            has_audio=bool(data.get("has_audio", False)),
            video_codec=_text(data.get("video_codec")),
            audio_codec=_text(data.get("audio_codec")),
        )


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class ProbeFailure:
    """A file that could not be used, with a message meant for the person who chose it."""

    message: str


ProbeResult = MediaInfo | ProbeFailure
