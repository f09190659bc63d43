from django.test import RequestFactory, override_settings

from safeharbor.core.client_ip import client_ip


def make(remote: str, forwarded: str | None = None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **extra)


@override_settings(TRUSTED_PROXY_COUNT=0)
def test_without_a_trusted_proxy_the_header_is_ignored():
    assert client_ip(make("203.0.113.5", "198.51.100.9")) == "203.0.113.5"


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_one_proxy_takes_the_address_it_appended_not_what_the_client_wrote():
    assert client_ip(make("10.0.0.2", "6.6.6.6, 198.51.100.9")) == "198.51.100.9"
    assert client_ip(make("10.0.0.2", "198.51.100.9")) == "198.51.100.9"


@override_settings(TRUSTED_PROXY_COUNT=2)
def test_two_proxies_count_from_the_right_and_fall_back_when_short():
    assert client_ip(make("10.0.0.3", "6.6.6.6, 198.51.100.9, 10.0.0.2")) == "198.51.100.9"
    assert client_ip(make("10.0.0.3", "198.51.100.9")) == "10.0.0.3"
