"""Print the machine and the speech stack's versions, so a test failure can be tied to a machine.

A live Whisper decode depends on the CPU (CTranslate2 picks kernels by
instruction set) and on the exact library versions; CI prints this first.
"""
from __future__ import annotations

import os
import platform
from importlib import metadata

PACKAGES = ("ctranslate2", "faster-whisper", "numpy", "av", "onnxruntime", "scikit-learn", "prefect")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> list[str]:
    """The instruction sets CTranslate2 chooses between."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return [f for f in ("avx", "avx2", "avx512f", "avx512bw", "fma", "avx_vnni", "avx512_vnni") if f in flags]
    except OSError:
        pass
    return []


def main() -> None:
    print(f"cpu: {cpu_model()} ({os.cpu_count()} cores; {' '.join(cpu_flags()) or 'no x86 vector flags'})")
    print(f"python: {platform.python_version()} on {platform.platform()}")
    for name in PACKAGES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "not installed"
        print(f"{name}: {version}")
    isa = os.environ.get("CT2_FORCE_CPU_ISA")
    print(f"CT2_FORCE_CPU_ISA: {isa or '(not set: CTranslate2 picks the best)'}")


if __name__ == "__main__":
    main()
