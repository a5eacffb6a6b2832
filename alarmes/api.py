"""JSON API of alarm rules and alarms (django-ninja; OpenAPI docs at /alarmes/api/v1/docs).

Authentication: the session (writes need the admin or operador role, and the CSRF
token) or a per-account API token, `Authorization: Bearer <token>` (writes need a
token with the `escrita` scope). Every endpoint runs inside the account's scope; an
id of another account answers 404 like a missing one. Bad input answers 400 naming
the field: {"erro": "<campo>: <mensagem>", "campo": "<campo>", "erros": {campo: [msgs]}}.
"""

import datetime as dt
from decimal import Decimal
from functools import wraps
from typing import Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from django_scopes import scope
from ninja import NinjaAPI, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer
from ninja.utils import check_csrf
from pydantic import Field

from apitokens.selectors import api_token_authenticate
from apitokens.services import api_token_touch
from contas.permissions import EDIT_REGISTRY
from dispositivos.models import Dispositivo, Gateway

from . import selectors, services
from .events import iso
from .models import RegraAlarme

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class ContaAuth(HttpBearer):
    """A bearer token (its account), else the session's active account."""

    def __call__(self, request):
        request.api_token = None
        header = request.headers.get("Authorization", "")
        if header:
            kind, _sep, raw = header.partition(" ")
            token = api_token_authenticate(raw=raw.strip()) if kind.lower() == "bearer" else None
            if token is None:
                return None
            api_token_touch(token=token)
            request.conta, request.api_token = token.conta, token
            request.can_write = token.can_write
            return token
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or getattr(request, "conta", None) is None:
            return None
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise HttpError(403, _("Token CSRF ausente ou inválido."))
        request.can_write = request.membership.role in EDIT_REGISTRY
        return user

    def authenticate(self, request, token):  # pragma: no cover (__call__ does it all)
        return None


api = NinjaAPI(
    title="TDS New — alarmes",
    version="1",
    description=_("Regras de alarme e alarmes da conta."),
    urls_namespace="alarmes_api",
    auth=ContaAuth(),
    docs_url="/docs",
)


def _error(request, status: int, message: str, field: str | None = None, errors=None):
    body = {"erro": f"{field}: {message}" if field else message}
    if field:
        body["campo"] = field
        body["erros"] = errors or {field: [message]}
    return api.create_response(request, body, status=status)


@api.exception_handler(NinjaValidationError)
def _bad_input(request, exc):
    errors: dict[str, list[str]] = {}
    for e in exc.errors:
        loc = [str(p) for p in e.get("loc", ()) if p not in ("body", "payload", "query")]
        errors.setdefault(loc[0] if loc else "corpo", []).append(str(e.get("msg", "")))
    field = next(iter(errors))
    return _error(request, 400, errors[field][0], field, errors)


@api.exception_handler(DjangoValidationError)
def _invalid(request, exc):
    errors = {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
    field = next(iter(errors))
    return _error(request, 400, errors[field][0], field, errors)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return _error(request, 404, _("Não encontrado."))


@api.exception_handler(AuthenticationError)
def _unauthorized(request, exc):
    response = _error(request, 401, _("Autenticação necessária (sessão ou token de API)."))
    response["WWW-Authenticate"] = 'Bearer realm="tds-new"'
    return response


def scoped(write: bool = False):
    """Runs the endpoint inside the account's scope; `write` needs the write right."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if write and not request.can_write:
                raise HttpError(
                    403,
                    _("Sem permissão de escrita (papel leitor ou token sem escopo de escrita)."),
                )
            with scope(conta=request.conta):
                return view(request, *args, **kwargs)

        return wrapper

    return decorator


# --- shapes ------------------------------------------------------------------------

Tipo = Literal[
    "limite", "consumo", "vazamento", "sem_dados", "anomalia", "gateway_offline", "perda_rede"
]
Sev = Literal["critico", "alto", "medio", "baixo", "informativo"]


class RegraPatch(Schema):
    nome: str | None = Field(None, min_length=1, max_length=120)
    tipo: Tipo | None = None
    severidade: Sev | None = None
    ativo: bool | None = None
    descricao: str | None = Field(None, max_length=2000)
    dispositivo: int | None = None
    gateway: int | None = None
    tipo_dispositivo: Literal["AGUA", "ENERGIA", "GAS", "TEMP"] | None = None
    exclusoes: list[int] | None = Field(None, max_length=500)
    grandeza: Literal["valor", "taxa"] | None = None
    limite_superior: Decimal | None = Field(None, max_digits=15, decimal_places=4)
    limite_inferior: Decimal | None = Field(None, max_digits=15, decimal_places=4)
    histerese: Decimal | None = Field(None, ge=0, max_digits=15, decimal_places=4)
    duracao_minutos: int | None = Field(None, ge=0, le=7 * 24 * 60)
    periodo: Literal["hora", "dia"] | None = None
    vazao_minima: Decimal | None = Field(None, ge=0, max_digits=15, decimal_places=4)
    janela_inicio: dt.time | None = None
    janela_fim: dt.time | None = None
    noites_para_encerrar: int | None = Field(None, ge=1, le=30)
    intervalos: int | None = Field(None, ge=1, le=1000)
    modo_anomalia: Literal["contador", "mediana"] | None = None
    fator_mediana: Decimal | None = Field(None, ge=1, max_digits=8, decimal_places=2)
    tolerancia_reset: Decimal | None = Field(None, ge=0, max_digits=15, decimal_places=4)


class RegraIn(RegraPatch):
    nome: str = Field(..., min_length=1, max_length=120)
    tipo: Tipo


def _dec(v) -> str | None:
    return None if v is None else str(v)


def regra_dict(r: RegraAlarme) -> dict:
    return {
        "id": r.pk,
        "nome": r.nome,
        "tipo": r.tipo,
        "severidade": r.severidade,
        "ativo": r.ativo,
        "descricao": r.descricao,
        "dispositivo": r.dispositivo_id,
        "gateway": r.gateway_id,
        "tipo_dispositivo": r.tipo_dispositivo or None,
        "exclusoes": sorted(d.pk for d in r.exclusoes.all()),
        "grandeza": r.grandeza,
        "limite_superior": _dec(r.limite_superior),
        "limite_inferior": _dec(r.limite_inferior),
        "histerese": _dec(r.histerese),
        "duracao_minutos": r.duracao_minutos,
        "periodo": r.periodo,
        "vazao_minima": _dec(r.vazao_minima),
        "janela_inicio": r.janela_inicio.isoformat(timespec="minutes"),
        "janela_fim": r.janela_fim.isoformat(timespec="minutes"),
        "noites_para_encerrar": r.noites_para_encerrar,
        "intervalos": r.intervalos,
        "modo_anomalia": r.modo_anomalia,
        "fator_mediana": _dec(r.fator_mediana),
        "tolerancia_reset": _dec(r.tolerancia_reset),
    }


def _resolve(conta, data: dict) -> tuple[dict, list | None]:
    """Ids of the input -> the account's objects; another account's id is 'not found'
    on its field (400), never a hint that it exists."""
    out = dict(data)
    for field, model in (("dispositivo", Dispositivo), ("gateway", Gateway)):
        if field in out and out[field] is not None:
            obj = model.objects.filter(conta=conta, pk=out[field]).first()
            if obj is None:
                raise DjangoValidationError({field: _("Não encontrado nesta conta.")})
            out[field] = obj
    if out.get("tipo_dispositivo") is None and "tipo_dispositivo" in out:
        out["tipo_dispositivo"] = ""
    exclusoes = out.pop("exclusoes", None)
    if exclusoes is not None:
        found = list(Dispositivo.objects.filter(conta=conta, pk__in=exclusoes))
        if len(found) != len(set(exclusoes)):
            raise DjangoValidationError({"exclusoes": _("Dispositivo não encontrado nesta conta.")})
        exclusoes = found
    for field in ("histerese", "vazao_minima", "fator_mediana", "tolerancia_reset"):
        if field in out and out[field] is None:
            out.pop(field)  # null = keep the default
    return out, exclusoes


def _target_fields(data: dict) -> dict:
    """Naming one target in a PATCH clears the others."""
    if any(k in data and data[k] for k in ("dispositivo", "gateway", "tipo_dispositivo")):
        base = {"dispositivo": None, "gateway": None, "tipo_dispositivo": ""}
        base.update({k: v for k, v in data.items() if v or k not in base})
        return base
    return data


# --- rules -------------------------------------------------------------------------


@api.get("/regras/", summary="Lista as regras de alarme")
@scoped()
def regras_list(request, tipo: Tipo | None = None, ativo: bool | None = None):
    items = selectors.regra_list(conta=request.conta, tipo=tipo or "", ativo=ativo)
    return {"regras": [regra_dict(r) for r in items]}


@api.post("/regras/", response={201: dict}, summary="Cria uma regra")
@scoped(write=True)
def regras_create(request, payload: RegraIn):
    data, exclusoes = _resolve(request.conta, payload.dict(exclude_unset=True))
    regra = services.regra_create(
        conta=request.conta, usuario=_user(request), exclusoes=exclusoes or [], **data
    )
    return Status(201, regra_dict(selectors.regra_get(conta=request.conta, pk=regra.pk)))


@api.get("/regras/{regra_id}/", summary="Uma regra")
@scoped()
def regras_detail(request, regra_id: int):
    return regra_dict(selectors.regra_get(conta=request.conta, pk=regra_id))


@api.patch("/regras/{regra_id}/", summary="Altera campos de uma regra")
@scoped(write=True)
def regras_patch(request, regra_id: int, payload: RegraPatch):
    regra = selectors.regra_get(conta=request.conta, pk=regra_id)
    data, exclusoes = _resolve(request.conta, _target_fields(payload.dict(exclude_unset=True)))
    services.regra_update(regra=regra, exclusoes=exclusoes, **data)
    return regra_dict(selectors.regra_get(conta=request.conta, pk=regra_id))


@api.delete("/regras/{regra_id}/", response={204: None}, summary="Exclui uma regra")
@scoped(write=True)
def regras_delete(request, regra_id: int):
    regra = selectors.regra_get(conta=request.conta, pk=regra_id)
    services.regra_delete(regra=regra, usuario=_user(request))
    return Status(204, None)


# --- alarms ------------------------------------------------------------------------


def alarme_dict(a) -> dict:
    return {
        "id": a.pk,
        "regra": a.regra_id,
        "regra_nome": a.regra_nome,
        "tipo": a.tipo,
        "dispositivo": a.dispositivo_id,
        "gateway": a.gateway_id,
        "estado": a.estado,
        "severidade": a.severidade,
        "inicio": iso(a.inicio),
        "fim": iso(a.fim),
        "valor": _dec(a.valor),
        "mensagem": a.mensagem,
    }


def _transicao_dict(t) -> dict:
    return {
        "tipo": t.tipo,
        "estado_anterior": t.estado_anterior or None,
        "estado_novo": t.estado_novo,
        "usuario": t.usuario.email if t.usuario_id else None,
        "em": iso(t.em),
        "comentario": t.comentario,
        "valor": _dec(t.valor),
    }


Estado = Literal["ativo", "reconhecido", "encerrado"]


@api.get("/alarmes/", summary="Lista os alarmes (abertos primeiro)")
@scoped()
def alarmes_list(
    request,
    estado: Estado | None = None,
    severidade: Sev | None = None,
    limite: int = 100,
):
    if not 1 <= limite <= 1000:
        raise DjangoValidationError({"limite": _("Deve estar entre 1 e 1000.")})
    qs = selectors.alarme_list(
        conta=request.conta, estado=estado or "", severidade=severidade or ""
    )
    return {"alarmes": [alarme_dict(a) for a in qs[:limite]]}


@api.get("/alarmes/{alarme_id}/", summary="Um alarme, com o histórico")
@scoped()
def alarmes_detail(request, alarme_id: int):
    a = selectors.alarme_get(conta=request.conta, pk=alarme_id)
    return {
        **alarme_dict(a),
        "historico": [_transicao_dict(t) for t in selectors.alarme_history(alarme=a)],
    }


class ComentarioIn(Schema):
    comentario: str = Field("", max_length=2000)


def _user(request):
    return None if request.api_token is not None else request.user


@api.post("/alarmes/{alarme_id}/reconhecer/", summary="Reconhece um alarme ativo")
@scoped(write=True)
def alarmes_ack(request, alarme_id: int, payload: ComentarioIn | None = None):
    a = selectors.alarme_get(conta=request.conta, pk=alarme_id)
    comentario = _with_token_name(request, payload.comentario if payload else "")
    services.alarm_acknowledge(alarme=a, usuario=_user(request), comentario=comentario)
    return alarme_dict(selectors.alarme_get(conta=request.conta, pk=alarme_id))


@api.post("/alarmes/{alarme_id}/encerrar/", summary="Encerra um alarme aberto")
@scoped(write=True)
def alarmes_clear(request, alarme_id: int, payload: ComentarioIn | None = None):
    a = selectors.alarme_get(conta=request.conta, pk=alarme_id)
    comentario = _with_token_name(request, payload.comentario if payload else "")
    services.alarm_clear(alarme=a, usuario=_user(request), manual=True, comentario=comentario)
    return alarme_dict(selectors.alarme_get(conta=request.conta, pk=alarme_id))


def _with_token_name(request, comentario: str) -> str:
    if request.api_token is None:
        return comentario
    prefix = _("[token %(nome)s]") % {"nome": request.api_token.nome}
    return f"{prefix} {comentario}".strip()
