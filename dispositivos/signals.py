"""Hooks of the registry for the apps above it (certificates), which it must not import.

- `gateway_mac_check(conta_id, mac, gateway_pk)`: sent before a gateway is created with, or
  changed to, `mac`; a receiver returns a pt-BR error message to refuse it, or None.
- `gateway_mac_changed(gateway, old_mac)`: sent inside the transaction that changed a
  gateway's MAC; a receiver's writes commit or roll back with it.
- `dispositivo_meter_changed(dispositivo, fields)`: sent inside the transaction that
  changed what decides whether a counter's backwards step is a rollover (the register's
  maximum, the factor, the meter kind: `fields`, their names); telemetry re-judges the
  device's stored steps in the same transaction.
- `dispositivo_regrouped(dispositivo, old)`: sent inside the transaction that changed what
  decides where a device's consumption is summed (its gateway, tipo, unidade or meter
  kind: `old`, their previous values by GROUP_FIELDS' names); telemetry moves the
  device's consumption totals in the same transaction.
"""

from django.dispatch import Signal

gateway_mac_check = Signal()
gateway_mac_changed = Signal()
dispositivo_meter_changed = Signal()
dispositivo_regrouped = Signal()
