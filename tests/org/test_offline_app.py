"""The installable app's server side: the service worker served from the root with no
CDN in it, the web app manifest and its icons, and the pages marked for offline use."""

import json
import re
import struct
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def png_size(path) -> tuple[int, int]:
    with open(path, "rb") as png:
        header = png.read(24)
    assert header[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", header[16:24])


def test_the_service_worker_is_served_from_the_root_without_a_login(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    # Served at /sw.js its default scope is "/": the whole app, not only /static/.
    assert response["Cache-Control"] == "no-cache"


def test_the_service_worker_loads_every_script_from_this_app_never_a_cdn(client):
    body = client.get("/sw.js").content.decode()
    assert "http" not in body and "googleapis" not in body
    loaded = re.findall(r'"/static/([^"]+\.(?:js|css|png))"', body)
    assert len(loaded) >= 10
    for path in loaded:
        assert finders.find(path), f"{path} is not a static file of the app"
    assert "modulePathCb" in body  # workbox-sw's CDN default is replaced


def test_the_vendored_workbox_names_no_missing_source_map():
    folder = Path(finders.find("vendor/workbox-7.4.1/workbox-sw.js")).parent
    for script in folder.glob("*.js"):
        assert "sourceMappingURL" not in script.read_text(), script.name


def test_the_manifest_makes_the_app_installable(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == "/" and manifest["scope"] == "/"
    sizes = set()
    for icon in manifest["icons"]:
        path = finders.find(icon["src"].removeprefix("/static/"))
        assert path, icon["src"]
        width, height = png_size(path)
        assert icon["sizes"] == f"{width}x{height}"
        sizes.add(width)
    assert {192, 512} <= sizes
    assert any(icon.get("purpose") == "maskable" for icon in manifest["icons"])


def test_every_page_links_the_manifest_and_the_offline_scripts(client, front_desk_ana):
    client.force_login(front_desk_ana)
    page = client.get("/").content.decode()
    for piece in ['rel="manifest"', "vendor/idb-8.0.3.umd.js", "org/device.js", "org/offline.js"]:
        assert piece in page
    assert f'data-device-user="{front_desk_ana.pk}"' in page
    assert 'id="device-status"' in page


def test_the_login_page_tells_the_device_nobody_is_logged_in(client):
    page = client.get("/login/").content.decode()
    # offline.js wipes the device's cache on a page with an empty user.
    assert 'data-device-user=""' in page


def test_pages_marked_available_offline_say_so_and_others_do_not(client, front_desk_ana, stocked):
    client.force_login(front_desk_ana)
    for path in ["/", "/intake/", "/intake/shift/", "/referrals/overdue/"]:
        assert client.get(path)["X-SSP-Offline"] == "page", path
    for path in ["/intake/visits/", "/account/"]:
        assert "X-SSP-Offline" not in client.get(path), path
    page = client.get("/").content.decode()
    offline = re.findall(r'<meta name="ssp-offline-page" content="([^"]+)">', page)
    assert offline == ["/", "/intake/", "/intake/shift/"]


def test_a_refused_post_is_not_kept_for_offline_use(client, front_desk_ana, site_a):
    client.force_login(front_desk_ana)
    response = client.post("/intake/", {"site": site_a.pk})
    assert response.status_code == 400
    assert "X-SSP-Offline" not in response
