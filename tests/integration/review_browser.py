"""Screenshot of a Label Studio page with headless Chromium, driven over the DevTools protocol.

Label Studio pages need a logged-in session: the session cookie is obtained
through the real login form (httpx, with its CSRF token) and handed to
Chromium with ``Network.setCookie`` before the page is opened. The websocket
client is aiohttp's (already in the environment); no Playwright or Selenium.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

CHROMIUM = "/usr/bin/chromium"


def login_cookies(url: str, email: str, password: str) -> dict[str, str]:
    with httpx.Client(base_url=url, follow_redirects=False, timeout=60) as c:
        page = c.get("/user/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token, "no CSRF token on the login page"
        res = c.post("/user/login/", data={"csrfmiddlewaretoken": token.group(1), "email": email,
                                           "password": password}, headers={"Referer": url + "/user/login/"})
        assert res.status_code in (302, 303), f"login failed: HTTP {res.status_code}"
        cookies = dict(c.cookies.items())
    assert "sessionid" in cookies, "login did not set a session cookie"
    return cookies


async def _cdp_screenshot(ws_url: str, cookies: dict[str, str], page_url: str, out: Path, *, wait_for: str,
                          settle_s: float, width: int, height: int, probe: str | None = None) -> dict:
    import aiohttp

    async with aiohttp.ClientSession() as session, session.ws_connect(ws_url, max_msg_size=0) as ws:
        counter = 0

        async def send(method: str, **params):
            nonlocal counter
            counter += 1
            my_id = counter
            await ws.send_str(json.dumps({"id": my_id, "method": method, "params": params}))
            while True:
                msg = json.loads((await ws.receive()).data)
                if msg.get("id") == my_id:
                    if "error" in msg:
                        raise RuntimeError(f"{method}: {msg['error']}")
                    return msg.get("result", {})

        await send("Network.enable")
        host = re.match(r"https?://([^:/]+)", page_url).group(1)
        for name, value in cookies.items():
            await send("Network.setCookie", name=name, value=value, domain=host, path="/")
        await send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                   mobile=False)
        await send("Page.enable")
        await send("Page.navigate", url=page_url)
        deadline = time.monotonic() + 90
        text = ""
        while time.monotonic() < deadline:
            await asyncio.sleep(1.0)
            res = await send("Runtime.evaluate", expression="document.body ? document.body.innerText : ''",
                             returnByValue=True)
            text = res.get("result", {}).get("value", "") or ""
            if wait_for in text:
                break
        await asyncio.sleep(settle_s)
        res = await send("Runtime.evaluate", expression="document.body ? document.body.innerText : ''",
                         returnByValue=True)
        text = res.get("result", {}).get("value", "") or text
        res = await send("Runtime.evaluate", returnByValue=True, expression=(
            "JSON.stringify({audio: document.querySelectorAll('audio').length, "
            "canvas: document.querySelectorAll('canvas').length})"))
        media = json.loads(res.get("result", {}).get("value", "{}") or "{}")
        if probe:
            res = await send("Runtime.evaluate", returnByValue=True, expression=probe)
            media["probe"] = res.get("result", {}).get("value")
        shot = await send("Page.captureScreenshot", format="png", captureBeyondViewport=False)
        out.write_bytes(base64.b64decode(shot["data"]))
        return {"text": text, **media}


def screenshot(page_url: str, cookies: dict[str, str], out: Path, *, wait_for: str, settle_s: float = 4.0,
               width: int = 1400, height: int = 1900, probe: str | None = None) -> dict:
    """Open ``page_url`` logged in, wait until ``wait_for`` is on the page, save a PNG.

    Returns the page text and how many <audio> and <canvas> (waveform) elements it has; ``probe``
    (a JavaScript expression) is evaluated in the page and its value returned as ``probe``.
    """
    profile = Path(tempfile.mkdtemp(prefix="tf-chromium-"))
    proc = subprocess.Popen(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--mute-audio", f"--user-data-dir={profile}",
         "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not port_file.exists() or not port_file.read_text().strip():
            assert proc.poll() is None, "chromium exited"
            assert time.monotonic() < deadline, "chromium did not open its DevTools port"
            time.sleep(0.2)
        port = int(port_file.read_text().split()[0])
        targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
        ws_url = next(t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page")
        out.parent.mkdir(parents=True, exist_ok=True)
        return asyncio.run(_cdp_screenshot(ws_url, cookies, page_url, out, wait_for=wait_for, settle_s=settle_s,
                                           width=width, height=height, probe=probe))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # chromium and its helpers: the group we started
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        shutil.rmtree(profile, ignore_errors=True)
