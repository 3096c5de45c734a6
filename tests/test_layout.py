"""The library knows nothing of Prefect: importing every module of src/tryon leaves it unloaded."""

import subprocess
import sys
from pathlib import Path

import tryon

SOURCE = Path(tryon.__file__).parent


def test_library_modules_do_not_import_prefect():
    modules = sorted(
        "tryon." + ".".join(path.relative_to(SOURCE).with_suffix("").parts).removesuffix(".__init__")
        for path in SOURCE.rglob("*.py")
    )
    modules = [name.removesuffix(".__init__") for name in modules]
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "assert not any(m == 'prefect' or m.startswith('prefect.') for m in sys.modules), 'prefect imported'\n"
        "print(len(sys.modules))\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]


# Built from parts so that grepping the tests for these patterns finds only real uses.
REMOTE_CODE = "trust_remote_code" + "=True"
FUSE = ".fuse" + "_lora("
TORCH_LOAD = "torch" + ".load("


def test_no_source_file_uses_unsafe_loading_or_fusing():
    for path in SOURCE.rglob("*.py"):
        text = path.read_text()
        assert REMOTE_CODE not in text, path
        assert FUSE not in text, path
        for line in text.splitlines():
            if TORCH_LOAD in line:
                assert "weights_only=True" in line, f"{path}: {line.strip()}"
