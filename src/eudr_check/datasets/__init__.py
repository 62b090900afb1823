"""Forest datasets: the catalog, tile naming, where tiles live, reading windows, downloads."""
