"""The aiohttp session under kubernetes-asyncio, without its per-request environment lookups."""

from __future__ import annotations

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url
from kubernetes_asyncio.client import ApiClient, Configuration
from yarl import URL

from app.cluster.gateway import ClusterUnavailable


def proxy_from_environment(configuration: Configuration) -> tuple[str | None, dict[str, str] | None]:
    """The proxy for the API server from HTTP(S)_PROXY / NO_PROXY, unless the kubeconfig set one."""
    if configuration.proxy:
        return None, None
    try:
        proxy, proxy_auth = get_env_proxy_for_url(URL(str(configuration.host)))
    except LookupError:
        return None, None
    except ValueError as error:
        raise ClusterUnavailable(f"the proxy set in the environment is not usable: {error}") from error
    headers = None if proxy_auth is None else {str(aiohttp.hdrs.PROXY_AUTHORIZATION): proxy_auth.encode()}
    return str(proxy), headers


def without_per_request_env_lookups(
    client: ApiClient, proxy: tuple[str | None, dict[str, str] | None]
) -> aiohttp.ClientSession:
    """Replaces kubernetes-asyncio's HTTP session by one that does not read the environment per request.

    kubernetes-asyncio opens its aiohttp session with `trust_env=True`, so every request looks up
    ~/.netrc and the proxy variables in a worker thread: two thread hops per request, which halved
    the rate of PATCHes a bulk deploy can send. A server's environment does not change while it
    runs, so the proxy is looked up once (`proxy_from_environment`) and passed on. Credentials come
    from the kubeconfig, never from ~/.netrc.

    Returns the original session, which owns the connection pool the new one borrows: close it
    after the client.
    """
    rest = client.rest_client
    url, headers = proxy
    if url is not None:
        rest.proxy = url
        if headers is not None:
            rest.proxy_headers = headers
    original: aiohttp.ClientSession = rest.pool_manager
    rest.pool_manager = aiohttp.ClientSession(
        connector=original.connector, connector_owner=False, trust_env=False, read_bufsize=2**21
    )
    return original
