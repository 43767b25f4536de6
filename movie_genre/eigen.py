"""The cache sizes Eigen blocks its products by, read and set inside TensorFlow's libraries.

Eigen, which does TensorFlow's matrix products and decompositions on the CPU,
asks CPUID for the L1, L2 and L3 sizes once and cuts every product into blocks
that fit them; the blocks decide the order in which partial sums are added, so
the last bits of a product (and of a QR, the orthogonal initializer's) follow
the CPU's caches. Eigen keeps the three sizes in one static object and offers
`setCpuCacheSizes()` to change them; TensorFlow does not expose it to Python,
so this writes that object where each library holds its copy, found by name in
the library's symbol table, before TensorFlow's first op reads it.

Linux only (the libraries are ELF files and /proc/self/maps gives where they
are loaded); nothing here imports TensorFlow.
"""

import ctypes
import mmap
import os
import struct
import sys
from pathlib import Path

import numpy as np

# The function-local static `m_cacheSizes` of Eigen::internal::manage_caching_sizes, and its
# initialization guard (Itanium C++ ABI: its first byte is non-zero once constructed).
SIZES_SYMBOL = b"_ZZN5Eigen8internal20manage_caching_sizesENS_6ActionEPlS2_S2_E12m_cacheSizes"
GUARD_SYMBOL = b"_ZGV" + SIZES_SYMBOL[2:]
# The TensorFlow libraries that run our ops and hold a copy (TensorFlow 2.21's wheel);
# the first one is where the kernels are, so it must be found.
LIBRARIES = ("libtensorflow_cc.so.2", "libtensorflow_framework.so.2")

ELF_SYMBOL = np.dtype([("name", "<u4"), ("info", "u1"), ("other", "u1"), ("section", "<u2"),
                       ("value", "<u8"), ("size", "<u8")])


class EigenCachesError(RuntimeError):
    pass


def _symbol_offsets(path: Path) -> dict[bytes, int]:
    """The offsets (from the library's load address) of the two symbols in `path`'s ELF symbol table."""
    with open(path, "rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as elf:
        if elf[:5] != b"\x7fELF\x02":
            raise EigenCachesError(f"{path}: not a 64-bit ELF file")
        section_table, = struct.unpack_from("<Q", elf, 0x28)
        entry_size, count = struct.unpack_from("<HH", elf, 0x3A)
        sections = [struct.unpack_from("<IIQQQQIIQQ", elf, section_table + i * entry_size) for i in range(count)]
        symtab = next((s for s in sections if s[1] == 2), None)  # SHT_SYMTAB: the full table, locals too
        if symtab is None:
            raise EigenCachesError(f"{path}: no symbol table (a stripped build)")
        strtab = sections[symtab[6]]
        symbols = np.frombuffer(elf, dtype=ELF_SYMBOL, count=symtab[5] // ELF_SYMBOL.itemsize, offset=symtab[4])
        offsets = {}
        for name in (SIZES_SYMBOL, GUARD_SYMBOL):
            at = elf.find(b"\0" + name + b"\0", strtab[4], strtab[4] + strtab[5])
            matches = symbols[symbols["name"] == at + 1 - strtab[4]] if at >= 0 else symbols[:0]
            if len(matches) != 1:
                raise EigenCachesError(f"{path}: {len(matches)} symbols named {name.decode()}")
            offsets[name] = int(matches["value"][0])
        del symbols, matches  # the mmap closes only once no array looks into it
        return offsets


def _loaded() -> dict[str, tuple[Path, int]]:
    """Each of LIBRARIES this process has loaded: its file and the address its first byte is mapped at."""
    found = {}
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split(maxsplit=5)
            if len(fields) == 6 and int(fields[2], 16) == 0:
                path = Path(fields[5].strip())
                if path.name in LIBRARIES and path.name not in found:
                    found[path.name] = (path, int(fields[0].split("-")[0], 16))
    return found


def _copies():
    """(library, the three sizes, the guard byte) for every loaded copy of Eigen's static."""
    if not sys.platform.startswith("linux"):
        raise EigenCachesError(f"Eigen's cache sizes can be set on Linux only, not on {sys.platform}")
    loaded = _loaded()
    if LIBRARIES[0] not in loaded:
        raise EigenCachesError(f"{LIBRARIES[0]} is not loaded: import tensorflow first")
    for name, (path, base) in sorted(loaded.items()):
        offsets = _symbol_offsets(path)
        sizes = (ctypes.c_long * 3).from_address(base + offsets[SIZES_SYMBOL])
        guard = ctypes.c_ubyte.from_address(base + offsets[GUARD_SYMBOL])
        yield name, sizes, guard


def set_cache_sizes(l1: int, l2: int, l3: int) -> list[str]:
    """Make every loaded copy of Eigen block as if the caches were these (bytes); returns the libraries.

    Before Eigen's first product its static is unconstructed (zeros, guard clear):
    it is filled and marked constructed, so CPUID is never asked.
    """
    names = []
    for name, sizes, guard in _copies():
        if guard.value == 0 and any(sizes):
            raise EigenCachesError(f"{name}: Eigen's cache sizes are not where expected ({list(sizes)})")
        sizes[0], sizes[1], sizes[2] = l1, l2, l3
        guard.value = 1
        names.append(name)
    return names


def cache_sizes() -> dict[str, tuple[int, int, int] | None]:
    """The sizes each loaded copy of Eigen blocks by (None: not yet read from the CPU)."""
    return {name: tuple(sizes) if guard.value else None for name, sizes, guard in _copies()}


if __name__ == "__main__":  # what this process's Eigen would use, for a person comparing CPUs
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    tf.linalg.qr(tf.ones((64, 64)))  # Eigen reads the CPU's sizes at its first product
    print(cache_sizes())
