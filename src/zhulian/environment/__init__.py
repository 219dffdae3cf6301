"""Environmental monitoring (issue 18): stations that report over HJ 212-2017 (TCP and MQTT), their values stored
with hourly and daily aggregates, and assessment exactly per the standards — AQI per HJ 633-2012/2026 by the data's
date, surface water class per GB 3838-2002, noise per GB 3096-2008, negative-ion levels."""
