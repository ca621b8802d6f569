"""numpy's SeedSequence and PCG64 seeding, done on arrays of runs.

The ensemble needs the stream key of thousands of runs at once; building a SeedSequence and
a Generator per run costs about 50 us, as much as the rest of a run. tests check every
output against numpy.
"""

from __future__ import annotations

import numpy as np

# --- run keys --------------------------------------------------------------------------------
#
# A run's key is a draw from np.random.default_rng(SeedSequence(batch_seed, spawn_key=(k,))),
# a PCG64 generator. Building a SeedSequence and a Generator costs about 50 us per run, as
# much as the rest of a run in the ensemble, so the seeding (SeedSequence's hash mixing and
# PCG64's 128-bit LCG) is done here on arrays of runs; tests check it against numpy.

_M32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_INIT_A, _MULT_A = 0x43B0D7E5, 0x931E8875
_INIT_B, _MULT_B = 0x8B51F9DD, 0x58F38DED
_MIX_MULT_L, _MIX_MULT_R = 0xCA01F9DD, 0x4973F715
_POOL = 4  # SeedSequence's default pool size
_PCG_MULT = (np.uint64(2549297995355413924), np.uint64(4865540595714422341))  # (high, low)


def _words(n: int) -> list[int]:
    """SeedSequence's little-endian 32-bit words of a non-negative int (0 -> [0])."""
    out = [n & 0xFFFFFFFF]
    n >>= 32
    while n:
        out.append(n & 0xFFFFFFFF)
        n >>= 32
    return out


def _hash_constants(start: int, mult: int, count: int) -> list[np.uint32]:
    h, out = start, []
    for _ in range(count):
        out.append(np.uint32(h))
        h = (h * mult) & 0xFFFFFFFF
    return out


def _seed_pool(entropy: list[np.ndarray]) -> list[np.ndarray]:
    """SeedSequence.mix_entropy on columns of uint32 words (one element per run)."""
    n_calls = _POOL + _POOL * (_POOL - 1) + (len(entropy) - _POOL) * _POOL
    h = _hash_constants(_INIT_A, _MULT_A, n_calls + 1)
    calls = iter(range(n_calls))

    def hashmix(value: np.ndarray) -> np.ndarray:
        j = next(calls)
        value = np.asarray((value ^ h[j]) * h[j + 1], np.uint32)
        return value ^ (value >> np.uint32(16))

    def mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        result = np.asarray(np.uint32(_MIX_MULT_L) * x - np.uint32(_MIX_MULT_R) * y, np.uint32)
        return result ^ (result >> np.uint32(16))

    mixer = [hashmix(entropy[i]) for i in range(_POOL)]
    for src in range(_POOL):
        for dst in range(_POOL):
            if src != dst:
                mixer[dst] = mix(mixer[dst], hashmix(mixer[src]))
    for src in range(_POOL, len(entropy)):
        for dst in range(_POOL):
            mixer[dst] = mix(mixer[dst], hashmix(entropy[src]))
    return mixer


def _seed_state(pool: list[np.ndarray], n_words64: int) -> list[np.ndarray]:
    """SeedSequence.generate_state(n_words64, np.uint64), as uint64 columns."""
    n32 = 2 * n_words64
    h = _hash_constants(_INIT_B, _MULT_B, n32 + 1)
    words = []
    for i in range(n32):
        value = (pool[i % _POOL] ^ h[i]) * h[i + 1]
        words.append((value ^ (value >> np.uint32(16))).astype(np.uint64))
    return [words[2 * j] | (words[2 * j + 1] << _S32) for j in range(n_words64)]


def _mul64(a: np.ndarray, b: np.ndarray | np.uint64) -> tuple[np.ndarray, np.ndarray]:
    """Full 128-bit products of uint64 arrays, as (high, low) halves."""
    a0, a1 = a & _M32, a >> _S32
    b0, b1 = b & _M32, b >> _S32
    p00, p01, p10, p11 = a0 * b0, a0 * b1, a1 * b0, a1 * b1
    mid = (p00 >> _S32) + (p01 & _M32) + (p10 & _M32)
    low = (p00 & _M32) | (mid << _S32)
    high = p11 + (p01 >> _S32) + (p10 >> _S32) + (mid >> _S32)
    return high, low


def _pcg_step(hi, lo, inc_hi, inc_lo):
    """PCG's LCG step: state * multiplier + increment, modulo 2**128."""
    m_hi, m_lo = _PCG_MULT
    p_hi, p_lo = _mul64(lo, m_lo)
    p_hi = p_hi + lo * m_hi + hi * m_lo
    lo = p_lo + inc_lo
    hi = p_hi + inc_hi + (lo < p_lo)
    return hi, lo


def _pcg_output(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """PCG64's XSL-RR output function of a 128-bit state."""
    value = hi ^ lo
    rot = hi >> np.uint64(58)
    return (value >> rot) | (value << ((np.uint64(64) - rot) & np.uint64(63)))


def pcg64_outputs(entropy: int, spawn_ids: list[int], count: int) -> np.ndarray:
    """The first `count` outputs of PCG64(SeedSequence(entropy, spawn_key=(k,))) for every k
    in spawn_ids: numpy's seeding and generator on arrays; shape (len(spawn_ids), count)."""
    entropy = int(entropy)
    spawn_ids = [int(k) for k in spawn_ids]
    if entropy < 0 or any(k < 0 for k in spawn_ids):
        raise ValueError("seeds and run ids must be non-negative")
    out = np.empty((len(spawn_ids), count), dtype=np.uint64)
    run_words = _words(entropy)
    run_words += [0] * (_POOL - len(run_words))  # as SeedSequence pads before a spawn key
    small = all(k < 2**32 for k in spawn_ids)
    groups = {1: list(range(len(spawn_ids)))} if small else {}
    if not small:
        for position, k in enumerate(spawn_ids):
            groups.setdefault(len(_words(k)), []).append(position)
    with np.errstate(over="ignore"):
        for n_words, positions in groups.items():
            ids = [spawn_ids[p] for p in positions]
            size = len(ids)
            columns = [np.full(size, w, dtype=np.uint32) for w in run_words]
            if small:
                columns.append(np.asarray(ids, dtype=np.uint32))
            else:
                columns += [
                    np.array([(k >> (32 * w)) & 0xFFFFFFFF for k in ids], dtype=np.uint32)
                    for w in range(n_words)
                ]
            seed_hi, seed_lo, seq_hi, seq_lo = _seed_state(_seed_pool(columns), 4)
            inc_hi = (seq_hi << np.uint64(1)) | (seq_lo >> np.uint64(63))
            inc_lo = (seq_lo << np.uint64(1)) | np.uint64(1)
            zero = np.zeros(size, dtype=np.uint64)
            hi, lo = _pcg_step(zero, zero, inc_hi, inc_lo)
            lo_seeded = lo + seed_lo
            hi = hi + seed_hi + (lo_seeded < lo)
            hi, lo = _pcg_step(hi, lo_seeded, inc_hi, inc_lo)
            for c in range(count):
                hi, lo = _pcg_step(hi, lo, inc_hi, inc_lo)
                out[positions, c] = _pcg_output(hi, lo)
    return out


# AllianceModel takes its key as the first 64-bit output of the run's Generator, before Mesa
# uses it. tests/test_ensemble.py checks this against AllianceModel, so a change in model.py
# shows up at once.
KEY_POSITION = 0


def run_keys(batch_seed: int, run_ids: list[int]) -> np.ndarray:
    """The stream key of each run: exactly the one AllianceModel draws for its seed."""
    return pcg64_outputs(batch_seed, run_ids, KEY_POSITION + 1)[:, KEY_POSITION].copy()
