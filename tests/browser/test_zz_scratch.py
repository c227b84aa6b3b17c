from tests.browser.test_tracking_shell import snapshot, FAKE_EVENT_SOURCE, token  # noqa

def test_look(live_server, page, token):
    state = {"driver": True}
    page.route("**/v1/tracking/*", lambda r: r.fulfill(json=snapshot(driver=state["driver"])))
    page.add_init_script(FAKE_EVENT_SOURCE)
    page.goto(f"{live_server.url}/t/{token}")
    page.wait_for_function("() => window.__sources.length === 1 && __sources[0].readyState === 1")
    page.wait_for_timeout(500)
    page.screenshot(path="/tmp/look_driver.png", full_page=True)
    state["driver"] = False
    page.reload()
    page.wait_for_timeout(800)
    page.screenshot(path="/tmp/look_nodriver.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 860})
    page.wait_for_timeout(300)
    page.screenshot(path="/tmp/look_desktop.png", full_page=False)
    page.goto(f"{live_server.url}/t/nope")
    page.screenshot(path="/tmp/look_404.png", full_page=True)
