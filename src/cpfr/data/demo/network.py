"""Where the demo alliance sells: channels, warehouses and points of sale.

JD online is split into 30 online zones (6 regions × 5 city tiers), each
served by its region's front distribution centre (FDC); the physical stores
(JD MALL, JD Home Appliance and three brands' own stores) lean towards the
sinking market of tier 3-5 cities, where the platform is opening stores.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from cpfr.data.schema import REGIONS

# Channel id -> (name, kind, format, running partner or None).
CHANNELS: dict[str, tuple[str, str, str | None, str | None]] = {
    "JD_ONLINE": ("JD.com online store", "platform_online", None, None),
    "JD_MALL": ("JD MALL", "platform_offline", "JD MALL", None),
    "JD_HA": ("JD Home Appliance stores", "platform_offline", "JD Home Appliance", None),
    "XIAOMI_HOME": ("Xiaomi Home", "brand_store", "Xiaomi Home", "XIAOMI"),
    "MIDEA_STORE": ("Midea Smart Home stores", "brand_store", "Midea Smart Home", "MIDEA"),
    "LENOVO_STORE": ("Lenovo Experience stores", "brand_store", "Lenovo Experience Store", "LENOVO"),
}

# Share of physical stores by channel: JD Home Appliance is the big sinking-market format.
STORE_CHANNEL_SHARE: dict[str, float] = {
    "JD_MALL": 0.08,
    "JD_HA": 0.50,
    "XIAOMI_HOME": 0.22,
    "MIDEA_STORE": 0.12,
    "LENOVO_STORE": 0.08,
}

# Share of stores by city tier: most new stores open in tiers 3-5 (the sinking market).
STORE_TIER_SHARE: tuple[float, ...] = (0.06, 0.12, 0.22, 0.28, 0.32)

# City/province/tier by region. County-level cities stand for tier 5.
_CITY_TEXT: dict[str, str] = {
    "North": (
        "Beijing/Beijing/1, Tianjin/Tianjin/2, Shenyang/Liaoning/2, Tangshan/Hebei/3, "
        "Baoding/Hebei/3, Datong/Shanxi/4, Chengde/Hebei/4, Zhuozhou/Hebei/5, "
        "Gaobeidian/Hebei/5"
    ),
    "East": (
        "Shanghai/Shanghai/1, Hangzhou/Zhejiang/2, Nanjing/Jiangsu/2, Wenzhou/Zhejiang/3, "
        "Weifang/Shandong/3, Lianyungang/Jiangsu/4, Lishui/Zhejiang/4, Cixi/Zhejiang/5, "
        "Shouguang/Shandong/5"
    ),
    "South": (
        "Guangzhou/Guangdong/1, Shenzhen/Guangdong/1, Dongguan/Guangdong/2, Xiamen/Fujian/2, "
        "Nanning/Guangxi/3, Shantou/Guangdong/3, Zhanjiang/Guangdong/4, Guilin/Guangxi/4, "
        "Puning/Guangdong/5, Jinjiang/Fujian/5"
    ),
    "Central": (
        "Wuhan/Hubei/2, Changsha/Hunan/2, Zhengzhou/Henan/2, Luoyang/Henan/3, Yichang/Hubei/3, "
        "Xinyang/Henan/4, Shaoyang/Hunan/4, Xiantao/Hubei/5, Gongyi/Henan/5"
    ),
    "Southwest": (
        "Chengdu/Sichuan/2, Chongqing/Chongqing/2, Kunming/Yunnan/2, Mianyang/Sichuan/3, "
        "Zunyi/Guizhou/3, Qujing/Yunnan/4, Nanchong/Sichuan/4, Dali/Yunnan/5, "
        "Jianyang/Sichuan/5"
    ),
    "Northwest": (
        "Xi'an/Shaanxi/2, Lanzhou/Gansu/3, Yinchuan/Ningxia/3, Baoji/Shaanxi/4, "
        "Tianshui/Gansu/4, Hancheng/Shaanxi/5, Yumen/Gansu/5"
    ),
}
# (city, province, region, tier).
CITIES: tuple[tuple[str, str, str, int], ...] = tuple(
    (city, province, region, int(tier))
    for region, text in _CITY_TEXT.items()
    for city, province, tier in (entry.split("/") for entry in text.split(", "))
)

# warehouse id -> (name, tier, parent, city, province, region, lead time days, capacity units).
WAREHOUSES: dict[str, tuple[str, str, str | None, str, str, str, int, int]] = {
    "RDC_NORTH": ("North RDC Langfang", "RDC", None, "Langfang", "Hebei", "North", 10, 3_000_000),
    "RDC_EAST": ("East RDC Kunshan", "RDC", None, "Kunshan", "Jiangsu", "East", 8, 4_000_000),
    "FDC_NORTH": ("Tianjin FDC", "FDC", "RDC_NORTH", "Tianjin", "Tianjin", "North", 3, 400_000),
    "FDC_EAST": ("Hangzhou FDC", "FDC", "RDC_EAST", "Hangzhou", "Zhejiang", "East", 2, 600_000),
    "FDC_SOUTH": ("Guangzhou FDC", "FDC", "RDC_EAST", "Guangzhou", "Guangdong", "South", 3, 600_000),
    "FDC_CENTRAL": ("Wuhan FDC", "FDC", "RDC_EAST", "Wuhan", "Hubei", "Central", 3, 350_000),
    "FDC_SOUTHWEST": ("Chengdu FDC", "FDC", "RDC_NORTH", "Chengdu", "Sichuan", "Southwest", 4, 300_000),
    "FDC_NORTHWEST": ("Xi'an FDC", "FDC", "RDC_NORTH", "Xi'an", "Shaanxi", "Northwest", 4, 200_000),
}
# Average boxed volume a unit of capacity stands for (litres): the demo's mix of phones and
# appliances stored in pallet racks, so volume capacity = capacity_units x 25 L.
LITRES_PER_CAPACITY_UNIT = 25.0
FDC_BY_REGION: dict[str, str] = {
    region: warehouse_id
    for warehouse_id, (_, tier, _, _, _, region, _, _) in WAREHOUSES.items()
    if tier == "FDC"
}


def build_channels() -> pd.DataFrame:
    """Return the ``channels`` table: JD online, two JD offline formats and three brand store chains."""
    return pd.DataFrame(
        [
            {"channel_id": key, "name": name, "kind": kind, "format": store_format, "partner_id": partner}
            for key, (name, kind, store_format, partner) in CHANNELS.items()
        ]
    )


def build_warehouses() -> pd.DataFrame:
    """Return the ``warehouses`` table: two RDCs and six FDCs, one FDC per region."""
    rows = []
    for key, (name, tier, parent, city, province, region, lead, capacity) in WAREHOUSES.items():
        rows.append(
            {
                "warehouse_id": key,
                "name": name,
                "tier": tier,
                "parent_warehouse_id": parent,
                "city": city,
                "province": province,
                "region": region,
                "lead_time_days": lead,
                # FDCs sit in dearer city land, so holding costs a little more there.
                "holding_cost_rate": 0.18 if tier == "RDC" else 0.24,
                "order_cost_yuan": 1500.0 if tier == "RDC" else 600.0,
                "capacity_units": capacity,
                "partner_id": None,
                "capacity_volume_l": capacity * LITRES_PER_CAPACITY_UNIT,
            }
        )
    return pd.DataFrame(rows).astype({"lead_time_days": "int64", "capacity_units": "int64"})


def build_locations(
    rng: np.random.Generator, n_stores: int, history_start: dt.date, history_end: dt.date
) -> pd.DataFrame:
    """Return the ``locations`` table: 30 online zones and ``n_stores`` physical stores.

    Online zones are region × city tier cells of JD online, served by the
    region's FDC. Stores are spread over all tiers with most in tiers 3-5;
    about one in eight opens during the history (sinking-market expansion).

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    n_stores : int
        Number of physical stores.
    history_start, history_end : datetime.date
        The sales history.

    Returns
    -------
    pandas.DataFrame
        The ``locations`` table.
    """
    zone_regions = np.repeat(np.asarray(REGIONS, dtype=object), 5)
    zone_tiers = np.tile(np.arange(1, 6), len(REGIONS))
    zones = pd.DataFrame(
        {
            "location_id": [
                f"ZONE_{region.upper()}_T{tier}"
                for region, tier in zip(zone_regions, zone_tiers, strict=True)
            ],
            "name": [
                f"JD online {region} tier {tier}"
                for region, tier in zip(zone_regions, zone_tiers, strict=True)
            ],
            "kind": "online_zone",
            "channel_id": "JD_ONLINE",
            "city": None,
            "province": None,
            "region": zone_regions,
            "city_tier": zone_tiers,
            "warehouse_id": [FDC_BY_REGION[region] for region in zone_regions],
            "open_date": pd.Timestamp("2015-01-01"),
            "partner_id": None,
        }
    )

    city_table = pd.DataFrame(CITIES, columns=["city", "province", "region", "city_tier"])
    tier_counts = city_table["city_tier"].map(city_table["city_tier"].value_counts())
    city_weight = np.asarray(STORE_TIER_SHARE)[city_table["city_tier"].to_numpy() - 1] / tier_counts
    city_index = rng.choice(len(city_table), size=n_stores, p=(city_weight / city_weight.sum()).to_numpy())
    store_cities = city_table.iloc[city_index].reset_index(drop=True)
    channel_ids = np.asarray(list(STORE_CHANNEL_SHARE), dtype=object)
    shares = np.asarray(list(STORE_CHANNEL_SHARE.values()))
    store_channel = channel_ids[rng.choice(len(channel_ids), size=n_stores, p=shares / shares.sum())]
    # JD MALL is a large-format destination store: only in tier 1-2 cities.
    big_city = store_cities["city_tier"].to_numpy() <= 2
    store_channel = np.where((store_channel == "JD_MALL") & ~big_city, "JD_HA", store_channel)

    start = np.datetime64(history_start, "D")
    history_days = int((np.datetime64(history_end, "D") - start).astype(int))
    sinking = store_cities["city_tier"].to_numpy() >= 3
    opens_in_history = sinking & (rng.random(n_stores) < 0.2)
    open_date = np.where(
        opens_in_history,
        start + rng.integers(30, max(history_days - 90, 31), n_stores).astype("timedelta64[D]"),
        start - rng.integers(60, 8 * 365, n_stores).astype("timedelta64[D]"),
    ).astype("datetime64[D]")
    formats = {key: (store_format or name) for key, (name, _, store_format, _) in CHANNELS.items()}
    numbers = np.arange(1, n_stores + 1)
    stores = pd.DataFrame(
        {
            "location_id": [f"ST{number:04d}" for number in numbers],
            "name": [
                f"{formats[channel]} {city} #{number}"
                for channel, city, number in zip(store_channel, store_cities["city"], numbers, strict=True)
            ],
            "kind": "store",
            "channel_id": store_channel,
            "city": store_cities["city"].to_numpy(),
            "province": store_cities["province"].to_numpy(),
            "region": store_cities["region"].to_numpy(),
            "city_tier": store_cities["city_tier"].to_numpy(),
            "warehouse_id": [FDC_BY_REGION[region] for region in store_cities["region"]],
            "open_date": pd.to_datetime(open_date),
            "partner_id": [CHANNELS[channel][3] for channel in store_channel],
        }
    )
    locations = pd.concat([zones, stores], ignore_index=True)
    return locations.astype({"city_tier": "int64"})
