"""Web callback sites (issue 13): the websites that may send web callback requests, their API
keys and the origins their pages call from. Administrators only: a site's key books callbacks
without a login.

Thin calls on the store (:mod:`dialer.store.web_callbacks`), which holds the rules; ``dialer
callbacks site-add`` calls the same functions. A key is made by the engine
(:func:`~dialer.callbacks.sites.new_site_key`) and answered exactly once, when the site is
added or its key rotated: the store keeps only its hash, so it cannot be shown again, and it is
never logged nor put in an error body (``key`` is one of the API's secret fields).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from dialer.api.context import Admin, Ctx
from dialer.api.schemas import _In
from dialer.callbacks.sites import MAX_ORIGINS, new_site_key
from dialer.store.web_callbacks import WebSite

router = APIRouter(tags=["callback sites"])

SiteName = Annotated[str, Path(min_length=1, max_length=200)]
_ORIGINS = "pages that may call the public endpoints from a browser: https://host[:port]"


class SiteIn(_In):
    name: str = Field(min_length=1, max_length=200)
    campaign: str = Field(min_length=1, max_length=200, description="the campaign it books into")
    origins: list[str] = Field(default_factory=list, max_length=MAX_ORIGINS, description=_ORIGINS)


class SitePatch(_In):
    origins: list[str] = Field(max_length=MAX_ORIGINS, description=_ORIGINS)


class SiteOut(BaseModel):
    name: str
    campaign: str
    origins: list[str]
    active: bool = Field(description="false once revoked: its key is refused")
    created_at: dt.datetime | None
    revoked_at: dt.datetime | None
    key_rotated_at: dt.datetime | None

    @classmethod
    def of(cls, site: WebSite) -> SiteOut:
        return cls(
            name=site.name,
            campaign=site.campaign,
            origins=list(site.origins),
            active=site.revoked_at is None,
            created_at=site.created_at,
            revoked_at=site.revoked_at,
            key_rotated_at=site.key_rotated_at,
        )


class SiteKeyOut(BaseModel):
    site: SiteOut
    key: str = Field(description="the site's API key (X-Api-Key): shown this once, kept only hashed")


@router.get("/callback-sites", response_model=list[SiteOut], summary="Web callback sites (administrators)")
async def list_sites(
    ctx: Ctx, _: Admin, campaign: Annotated[str | None, Query(min_length=1, max_length=200)] = None
) -> list[SiteOut]:
    return [SiteOut.of(s) for s in await ctx.store.list_callback_sites(campaign)]


@router.post(
    "/callback-sites",
    response_model=SiteKeyOut,
    status_code=201,
    summary="Add a website that may send web callback requests; answers its key once",
)
async def add_site(ctx: Ctx, _: Admin, body: SiteIn) -> SiteKeyOut:
    key = new_site_key()
    site = await ctx.store.add_callback_site(body.name, body.campaign, key, body.origins)
    return SiteKeyOut(site=SiteOut.of(site), key=key)


@router.patch("/callback-sites/{site}", response_model=SiteOut, summary="Change the site's origins")
async def patch_site(ctx: Ctx, _: Admin, site: SiteName, body: SitePatch) -> SiteOut:
    return SiteOut.of(await ctx.store.set_callback_site_origins(site, body.origins))


@router.post(
    "/callback-sites/{site}/rotate",
    response_model=SiteKeyOut,
    summary="A new key for the site (answered once); the old key is refused from now on",
)
async def rotate_site(ctx: Ctx, _: Admin, site: SiteName) -> SiteKeyOut:
    key = new_site_key()
    rotated = await ctx.store.rotate_callback_site_key(site, key, at=ctx.clock.utcnow())
    return SiteKeyOut(site=SiteOut.of(rotated), key=key)


@router.delete(
    "/callback-sites/{site}",
    response_model=SiteOut,
    summary="Revoke the site: its key is refused; the site and its requests are kept",
)
async def revoke_site(ctx: Ctx, _: Admin, site: SiteName) -> SiteOut:
    return SiteOut.of(await ctx.store.revoke_callback_site(site, at=ctx.clock.utcnow()))
