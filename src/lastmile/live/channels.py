"""Names of the live channels tracking publishes on (one place, so publishers and SSE agree)."""


def fleet_channel(organization_id: str) -> str:
    """Everything a dispatcher sees live: positions, stop states, ETAs of the whole fleet."""
    return f"fleet:{organization_id}"


def order_channel(order_id: str) -> str:
    """What one order's customer may see: already filtered for privacy by the publisher."""
    return f"order:{order_id}"
