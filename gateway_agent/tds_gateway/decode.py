"""Register words -> engineering value: the five types, word order, the factor."""

import math
import struct
from decimal import Decimal

WIDTH = {"uint16": 1, "int16": 1, "uint32": 2, "int32": 2, "float32": 2}


def registers_needed(tipo_dado: str) -> int:
    return WIDTH[tipo_dado]


def decode(registers: list[int], tipo_dado: str, ordem_palavras: str = "big") -> int | float:
    """Bytes are big-endian inside each 16-bit word (Modbus); `ordem_palavras` "big" puts
    the high word first (ABCD), "little" the low word first (CDAB)."""
    if tipo_dado == "uint16":
        return registers[0] & 0xFFFF
    if tipo_dado == "int16":
        v = registers[0] & 0xFFFF
        return v - 0x10000 if v & 0x8000 else v
    hi, lo = registers[0] & 0xFFFF, registers[1] & 0xFFFF
    if ordem_palavras == "little":
        hi, lo = lo, hi
    raw = (hi << 16) | lo
    if tipo_dado == "uint32":
        return raw
    if tipo_dado == "int32":
        return raw - 0x1_0000_0000 if raw & 0x8000_0000 else raw
    if tipo_dado == "float32":
        return struct.unpack(">f", raw.to_bytes(4, "big"))[0]
    raise ValueError(f"unknown tipo_dado {tipo_dado!r}")


def encode(value: int | float, tipo_dado: str, ordem_palavras: str = "big") -> list[int]:
    """The inverse of decode (tests and the bench use it to load the meters)."""
    if tipo_dado in ("uint16", "int16"):
        return [int(value) & 0xFFFF]
    if tipo_dado == "float32":
        raw = int.from_bytes(struct.pack(">f", value), "big")
    else:
        raw = int(value) & 0xFFFF_FFFF
    words = [raw >> 16, raw & 0xFFFF]
    return words[::-1] if ordem_palavras == "little" else words


def engineering_value(raw: int | float, fator: Decimal) -> Decimal | None:
    """raw × fator, exact for integers; None for NaN/infinite floats."""
    if isinstance(raw, float):
        if math.isnan(raw) or math.isinf(raw):
            return None
        return Decimal(repr(raw)) * fator
    return Decimal(raw) * fator
