"""Form behaviour shared by the registry's forms and its admin (no queries at import:
the admin imports this outside any account scope)."""

from .models import Dispositivo

MODBUS_DEFAULTED = ("funcao_modbus", "tipo_dado", "ordem_palavras", "modbus_porta")


class ModbusDefaultsMixin:
    """The Modbus details added for the gateway agent may be left out (forms and API
    clients written before them): the model's defaults apply (holding register, uint16,
    high word first, port 502)."""

    def _modbus_optional(self) -> None:
        for name in MODBUS_DEFAULTED:
            if name in self.fields:
                self.fields[name].required = False

    def _modbus_defaults(self, cleaned: dict) -> dict:
        for name in MODBUS_DEFAULTED:
            if name in self.fields and cleaned.get(name) in (None, ""):
                cleaned[name] = Dispositivo._meta.get_field(name).get_default()
        return cleaned
