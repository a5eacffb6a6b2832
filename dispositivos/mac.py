"""MAC address normalization shared by the registry, the consumer and the PKI."""

import re

_HEX12 = re.compile(r"^[0-9a-f]{12}$")
_SEPARATED = re.compile(r"^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$")


def normalize_mac(value: str) -> str | None:
    """`AA:BB:CC:DD:EE:FF`, `aa-bb-cc-dd-ee-ff` or `aabbccddeeff` → `aa:bb:cc:dd:ee:ff`.

    Returns None for anything that is not a MAC address.
    """
    if not isinstance(value, str):
        return None
    candidate = value.strip().lower()
    if _SEPARATED.match(candidate):
        candidate = candidate.replace("-", "").replace(":", "")
    if not _HEX12.match(candidate):
        return None
    return ":".join(candidate[i : i + 2] for i in range(0, 12, 2))
