"""Every supported plot format, built inside the test, read through the public entry point."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import openpyxl
import pytest
import shapely

from eudr_check.findings import Code
from eudr_check.intake import PlotTable, read_layers, read_plots
from eudr_check.intake.gpx import CLOSED_TRACK_TOLERANCE_M, haversine_m

KML_NS = 'xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2"'
SQUARE = "-76.10,-5.70,0 -76.09,-5.70,0 -76.09,-5.69,0 -76.10,-5.69,0 -76.10,-5.70,0"


def _codes(table: PlotTable, plot_id: str) -> set[Code]:
    return {f.code for f in table.findings if f.plot_id == plot_id}


def _row(table: PlotTable, plot_id: str) -> dict[str, Any]:
    rows = table.plots[table.plots["plot_id"] == plot_id].to_dict("records")
    assert len(rows) == 1, f"expected one plot {plot_id!r}"
    row: dict[str, Any] = rows[0]
    return row


# --- KML / KMZ -------------------------------------------------------------------------------

GOOGLE_EARTH_KML = f"""<?xml version="1.0" encoding="UTF-8"?>
<kml {KML_NS}>
<Document><name>cooperativa.kml</name>
  <Folder><name>Cooperativa Norte</name>
    <Folder><name>Sector Alto</name>
      <Placemark><name>P-001</name>
        <description>Café bajo sombra</description>
        <ExtendedData>
          <Data name="Productor"><value>Rosa Huamán</value></Data>
          <Data name="Area"><value>2,5</value></Data>
        </ExtendedData>
        <Polygon><gx:altitudeMode>clampToGround</gx:altitudeMode><outerBoundaryIs><LinearRing>
          <coordinates>
            {SQUARE}
          </coordinates>
        </LinearRing></outerBoundaryIs></Polygon>
      </Placemark>
    </Folder>
    <Placemark><name>P-002</name>
      <Polygon><outerBoundaryIs><LinearRing><coordinates>
        -76.20,-5.80 -76.19,-5.80 -76.19,-5.79 -76.20,-5.79
      </coordinates></LinearRing></outerBoundaryIs></Polygon>
    </Placemark>
  </Folder>
  <Placemark><name>P-003</name>
    <MultiGeometry>
      <Polygon><outerBoundaryIs><LinearRing><coordinates>
        -76.30,-5.90,0 -76.29,-5.90,0 -76.29,-5.89,0 -76.30,-5.90,0
      </coordinates></LinearRing></outerBoundaryIs></Polygon>
      <Polygon><outerBoundaryIs><LinearRing><coordinates>
        -76.28,-5.90,0 -76.27,-5.90,0 -76.27,-5.89,0 -76.28,-5.90,0
      </coordinates></LinearRing></outerBoundaryIs></Polygon>
    </MultiGeometry>
  </Placemark>
  <Placemark><name>P-004</name>
    <ExtendedData><SchemaData schemaUrl="#s">
      <SimpleData name="Productor">Juan Quispe</SimpleData>
      <SimpleData name="Pais">PE</SimpleData>
    </SchemaData></ExtendedData>
    <Point><coordinates>-76.5, -6.1, 0</coordinates></Point>
  </Placemark>
</Document>
</kml>
"""


def test_kml_google_earth_folders_multigeometry_and_extended_data(tmp_path: Path) -> None:
    path = tmp_path / "cooperativa.kml"
    path.write_text(GOOGLE_EARTH_KML, encoding="utf-8")
    table = read_plots(path, default_country="PE")

    assert list(table.plots["plot_id"]) == ["P-001", "P-002", "P-003", "P-004"]
    assert list(table.plots["source_index"]) == [1, 2, 3, 4]
    first = _row(table, "P-001")
    assert first["producer_name"] == "Rosa Huamán"
    assert first["producer_country"] == "PE"
    assert first["declared_area_ha"] == 2.5
    assert first["geometry"].geom_type == "Polygon"
    assert first["geometry"].exterior.coords[0] == (-76.10, -5.70)
    # Z = 0 everywhere is Google Earth's habit, not a real altitude: no Z finding.
    assert Code.Z_OR_M_VALUES not in _codes(table, "P-001")
    # The open ring is kept open by the reader and reported by the builder.
    assert Code.RING_NOT_CLOSED in _codes(table, "P-002")
    assert _row(table, "P-002")["geometry"].geom_type == "Polygon"
    assert _row(table, "P-003")["geometry"].geom_type == "MultiPolygon"
    assert len(_row(table, "P-003")["geometry"].geoms) == 2
    point = _row(table, "P-004")
    assert point["producer_name"] == "Juan Quispe"
    assert (point["geometry"].x, point["geometry"].y) == (-76.5, -6.1)


def test_kml_raw_properties_folders_and_positions(tmp_path: Path) -> None:
    path = tmp_path / "cooperativa.kml"
    path.write_text(GOOGLE_EARTH_KML, encoding="utf-8")
    (layer,) = read_layers(path, path.read_bytes())
    assert layer.crs == "EPSG:4326"
    assert layer.typed_properties is False
    first, second, third, fourth = layer.features
    assert first.properties["folder"] == "Cooperativa Norte / Sector Alto"
    assert first.properties["description"] == "Café bajo sombra"
    assert second.properties["folder"] == "Cooperativa Norte"
    assert "folder" not in third.properties
    assert fourth.properties["Pais"] == "PE"
    assert first.geometry is not None and second.geometry is not None
    assert first.geometry["coordinates"][0][0] == [-76.10, -5.70]  # altitude 0 dropped
    assert len(second.geometry["coordinates"][0]) == 4  # open ring kept as found


def test_kml_without_namespace_keeps_real_altitude_and_reads_linestring(tmp_path: Path) -> None:
    path = tmp_path / "gps.kml"
    path.write_text(
        "<kml><Document>"
        "<Placemark><name>A</name><Polygon><outerBoundaryIs><LinearRing><coordinates>"
        "-76.1,-5.7,1200 -76.09,-5.7,1210 -76.09,-5.69,1190 -76.1,-5.7,1200"
        "</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>"
        "<Placemark><name>B</name><LineString><coordinates>"
        "-76.2,-5.8 -76.19,-5.8</coordinates></LineString></Placemark>"
        "</Document></kml>",
        encoding="utf-8",
    )
    (layer,) = read_layers(path, path.read_bytes())
    assert layer.features[0].geometry is not None
    assert layer.features[0].geometry["coordinates"][0][0] == [-76.1, -5.7, 1200.0]
    table = read_plots(path, default_country="PE")
    assert Code.Z_OR_M_VALUES in _codes(table, "A")
    assert _row(table, "B")["geometry"].geom_type == "LineString"


def test_kmz_reads_doc_kml(tmp_path: Path) -> None:
    path = tmp_path / "parcelas.kmz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as kmz:
        kmz.writestr("files/icon.png", b"\x89PNG not really")
        kmz.writestr("doc.kml", GOOGLE_EARTH_KML)
    table = read_plots(path, default_country="PE")
    assert len(table.plots) == 4
    assert set(table.plots["source_file"]) == {"parcelas.kmz"}
    assert _row(table, "P-001")["declared_area_ha"] == 2.5


# --- GPX -------------------------------------------------------------------------------------

GPX = """<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">
  <wpt lat="-5.700000" lon="-76.100000"><ele>850</ele><name>W-1</name><desc>pozo</desc></wpt>
  <trk><name>T-CERRADO</name><trkseg>
    <trkpt lat="-5.700000" lon="-76.100000"><ele>850</ele></trkpt>
    <trkpt lat="-5.700000" lon="-76.099000"/>
    <trkpt lat="-5.699000" lon="-76.099000"/>
    <trkpt lat="-5.699000" lon="-76.100000"/>
    <trkpt lat="-5.700050" lon="-76.100030"/>
  </trkseg></trk>
  <trk><name>T-ABIERTO</name><trkseg>
    <trkpt lat="-5.800000" lon="-76.200000"/>
    <trkpt lat="-5.800000" lon="-76.199000"/>
    <trkpt lat="-5.799000" lon="-76.199000"/>
  </trkseg></trk>
  <rte><name>R-1</name>
    <rtept lat="-5.9" lon="-76.3"/><rtept lat="-5.9" lon="-76.29"/>
    <rtept lat="-5.89" lon="-76.29"/><rtept lat="-5.9" lon="-76.3"/>
  </rte>
</gpx>
"""


def test_gpx_waypoints_closed_and_open_tracks(tmp_path: Path) -> None:
    path = tmp_path / "recorrido.gpx"
    path.write_text(GPX, encoding="utf-8")
    table = read_plots(path, default_country="PE")

    assert list(table.plots["plot_id"]) == ["W-1", "T-CERRADO", "T-ABIERTO", "R-1"]
    assert list(table.plots["source_index"]) == [1, 2, 3, 4]
    waypoint = _row(table, "W-1")["geometry"]
    assert (waypoint.geom_type, waypoint.x, waypoint.y) == ("Point", -76.1, -5.7)
    assert Code.Z_OR_M_VALUES not in _codes(table, "W-1")  # elevation dropped

    closed = _row(table, "T-CERRADO")["geometry"]
    assert closed.geom_type == "Polygon"
    ring = list(closed.exterior.coords)
    assert len(ring) == 6 and ring[0] == ring[-1] == (-76.1, -5.7)
    assert Code.RING_NOT_CLOSED not in _codes(table, "T-CERRADO")

    assert _row(table, "T-ABIERTO")["geometry"].geom_type == "LineString"
    route = _row(table, "R-1")["geometry"]
    assert route.geom_type == "Polygon" and len(route.exterior.coords) == 4


def test_gpx_track_properties_and_tolerance(tmp_path: Path) -> None:
    path = tmp_path / "recorrido.gpx"
    path.write_text(GPX, encoding="utf-8")
    (layer,) = read_layers(path, path.read_bytes())
    assert layer.features[0].properties == {"name": "W-1", "desc": "pozo"}
    assert layer.features[1].properties["track"] == "T-CERRADO"
    assert layer.features[3].properties["route"] == "R-1"
    # The closed track's ends are ~6 m apart: within the tolerance.
    gap = haversine_m([-76.1, -5.7], [-76.10003, -5.70005])
    assert 5 < gap < CLOSED_TRACK_TOLERANCE_M


# --- CSV -------------------------------------------------------------------------------------


def test_csv_utf8_comma_points(tmp_path: Path) -> None:
    path = tmp_path / "parcelas.csv"
    path.write_bytes(
        "\ufeffcodigo,productor,pais,lat,lon,area_ha\n"
        "007,María Ñahui,PE,-5.712345,-76.123456,1.5\n"
        '008,"Pérez, José",Perú,-5.8,-76.2,"2,25"\n'.encode()
    )
    table = read_plots(path)
    assert list(table.plots["plot_id"]) == ["007", "008"]  # leading zeros kept
    first = _row(table, "007")
    assert first["producer_name"] == "María Ñahui"
    assert first["producer_country"] == "PE"
    assert first["declared_area_ha"] == 1.5
    assert (first["geometry"].x, first["geometry"].y) == (-76.123456, -5.712345)
    assert first["source_index"] == 2
    second = _row(table, "008")
    assert second["producer_name"] == "Pérez, José"
    assert second["declared_area_ha"] == 2.25
    assert second["producer_country"] == "PE"
    assert Code.AREA_IS_STRING not in _codes(table, "008")  # CSV text is normal


def test_csv_cp1252_semicolon_decimal_comma_spanish_headers(tmp_path: Path) -> None:
    path = tmp_path / "socios.csv"
    text = (
        "Latitud;Longitud;Código;Productor;Superficie (ha)\r\n"
        "-5,712345;-76,123456;001;Nuñez Peña;3,5\r\n"
        "\r\n"
        '"-5,8";"-76,2";002;José Ávila;1,2\r\n'
        ";;003;Sin coordenadas;1\r\n"
    )
    path.write_bytes(text.encode("cp1252"))
    table = read_plots(path, default_country="PE")
    assert list(table.plots["plot_id"]) == ["001", "002", "003"]
    assert list(table.plots["source_index"]) == [2, 4, 5]  # the blank row 3 is skipped
    first = _row(table, "001")
    assert first["producer_name"] == "Nuñez Peña"
    assert first["producer_country"] == "PE"
    assert (first["geometry"].x, first["geometry"].y) == (-76.123456, -5.712345)
    assert _row(table, "002")["geometry"].x == -76.2
    assert _row(table, "003")["geometry"] is None
    assert Code.GEOMETRY_MISSING in _codes(table, "003")


def test_csv_area_header_with_unit_in_parentheses(tmp_path: Path) -> None:
    path = tmp_path / "socios.csv"
    path.write_bytes("Latitud;Longitud;Código;Superficie (ha)\n-5,7;-76,1;001;3,5\n".encode())
    table = read_plots(path, default_country="PE")
    assert _row(table, "001")["declared_area_ha"] == 3.5


def test_csv_tab_delimited_with_sep_hint(tmp_path: Path) -> None:
    path = tmp_path / "exportado.txt"
    path.write_text("sep=\t\nid\tx\ty\nA1\t-76.5\t-6.25\n", encoding="utf-8")
    table = read_plots(path, default_country="PE")
    row = _row(table, "A1")
    assert (row["geometry"].x, row["geometry"].y, row["source_index"]) == (-76.5, -6.25, 2)


def test_csv_wkt_column(tmp_path: Path) -> None:
    path = tmp_path / "poligonos.csv"
    path.write_text(
        "id_parcela;productor;wkt\n"
        'A;Ana;"POLYGON ((-76.1 -5.7, -76.09 -5.7, -76.09 -5.69, -76.1 -5.7))"\n'
        'B;Beto;"POLYGON ((-76.2 -5.8, -76.19 -5.8, -76.19 -5.79, -76.2 -5.79))"\n'
        "C;Carla;POINT (-76.3 -5.9)\n"
        "D;Dina;POLYGON ((esto no es wkt\n",
        encoding="utf-8",
    )
    table = read_plots(path, default_country="PE")
    assert list(table.plots["plot_id"]) == ["A", "B", "C", "D"]
    a = _row(table, "A")["geometry"]
    assert a.geom_type == "Polygon" and a.exterior.coords[1] == (-76.09, -5.7)
    # GEOS refuses open rings; the reader keeps the raw positions so the finding is precise.
    assert Code.RING_NOT_CLOSED in _codes(table, "B")
    assert _row(table, "C")["geometry"].geom_type == "Point"
    assert _row(table, "D")["geometry"] is None
    assert Code.GEOMETRY_MISSING in _codes(table, "D")
    (layer,) = read_layers(path, path.read_bytes())
    assert layer.features[3].properties["_wkt_error"] == "POLYGON ((esto no es wkt"


def test_csv_ewkt_srid_sets_crs(tmp_path: Path) -> None:
    path = tmp_path / "postgis.csv"
    path.write_text(
        "codigo,the_geom\n"
        '1,"SRID=32717;POLYGON ((500000 9300000, 500100 9300000, 500100 9300100, '
        '500000 9300000))"\n',
        encoding="utf-8",
    )
    (layer,) = read_layers(path, path.read_bytes())
    assert layer.crs == "EPSG:32717"
    table = read_plots(path, default_country="PE")
    assert Code.CRS_REPROJECTED in _codes(table, "1")
    lon, lat = shapely.get_coordinates(_row(table, "1")["geometry"])[0]
    assert -81.01 < lon < -80.99 and -6.34 < lat < -6.32


def test_csv_vertex_rows_form_polygons(tmp_path: Path) -> None:
    path = tmp_path / "vertices.csv"
    path.write_text(
        "Código;Productor;Vértice;Latitud;Longitud\n"
        "P1;Ana;1;-5,70;-76,10\n"
        "P1;Ana;3;-5,69;-76,09\n"
        "P1;Ana;2;-5,70;-76,09\n"
        "P1;Ana;4;-5,69;-76,10\n"
        "P2;Luis;1;-5,80;-76,20\n"
        "P2;Luis;2;-5,80;-76,19\n"
        "P2;Luis;3;-5,79;-76,19\n"
        "P2;Luis;4;-5,80;-76,20\n",
        encoding="utf-8",
    )
    table = read_plots(path, default_country="PE")
    assert list(table.plots["plot_id"]) == ["P1", "P2"]
    assert list(table.plots["source_index"]) == [2, 6]
    p1 = _row(table, "P1")
    assert p1["producer_name"] == "Ana"
    assert list(p1["geometry"].exterior.coords)[:4] == [
        (-76.10, -5.70), (-76.09, -5.70), (-76.09, -5.69), (-76.10, -5.69),
    ]  # fmt: skip
    assert Code.RING_NOT_CLOSED in _codes(table, "P1")  # vertex 1 was not repeated
    assert Code.RING_NOT_CLOSED not in _codes(table, "P2")


def test_csv_utm_metres_without_crs_are_flagged(tmp_path: Path) -> None:
    path = tmp_path / "utm.csv"
    path.write_text("codigo;este;norte\nU1;500000;9300000\n", encoding="utf-8")
    table = read_plots(path, default_country="PE")
    assert Code.CRS_PROJECTED_UNKNOWN in _codes(table, "U1")
    table = read_plots(path, default_country="PE", crs="EPSG:32717")
    assert Code.CRS_REPROJECTED in _codes(table, "U1")
    assert -81.01 < _row(table, "U1")["geometry"].x < -80.99


def test_csv_100k_points_all_read(tmp_path: Path) -> None:
    # Speed is measured in benchmarks/, never asserted here.
    path = tmp_path / "grande.csv"
    lines = ["codigo;productor;latitud;longitud;area"]
    lines += [f"{i:06d};Socio {i};-5,{i:06d};-76,{i:06d};1,5" for i in range(100_000)]
    path.write_text("\n".join(lines), encoding="utf-8")
    (layer,) = read_layers(path, path.read_bytes())
    assert len(layer.features) == 100_000
    assert layer.features[-1].index == 100_001
    assert layer.features[-1].geometry == {"type": "Point", "coordinates": [-76.099999, -5.099999]}


# --- XLSX ------------------------------------------------------------------------------------


def _workbook(path: Path) -> None:
    book = openpyxl.Workbook()
    notes = book.active
    assert notes is not None
    notes.title = "Notas"
    notes["A1"] = "Hoja de notas sin coordenadas"
    sheet = book.create_sheet("Parcelas")
    sheet.append([])
    sheet.append(["Código", "Productor", "País", "Latitud", "Longitud", "Área"])
    sheet.append(["A-01", "Elena Rojas", "PE", -5.712345, -76.123456, 2.5])
    sheet.append([None] * 6)
    sheet.append(["A-02", "Marco Díaz", "Perú", "-5,8", "-76,2", "1,75"])
    sheet.append([103, "Sin coordenadas", "PE", None, None, None])
    book.save(path)


def test_xlsx_named_sheet_typed_numbers_and_real_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "padron.xlsx"
    _workbook(path)
    table = read_plots(path, layer="Parcelas")
    assert list(table.plots["plot_id"]) == ["A-01", "A-02", "103"]
    assert list(table.plots["source_index"]) == [3, 5, 6]  # real sheet rows
    first = _row(table, "A-01")
    assert first["producer_name"] == "Elena Rojas"
    assert first["producer_country"] == "PE"
    assert first["declared_area_ha"] == 2.5
    assert (first["geometry"].x, first["geometry"].y) == (-76.123456, -5.712345)
    second = _row(table, "A-02")
    assert second["declared_area_ha"] == 1.75
    assert second["producer_country"] == "PE"
    assert (second["geometry"].x, second["geometry"].y) == (-76.2, -5.8)
    assert Code.GEOMETRY_MISSING in _codes(table, "103")


def test_xlsx_first_sheet_by_default(tmp_path: Path) -> None:
    path = tmp_path / "padron.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["id", "lat", "lon"])
    sheet.append(["X1", -6.0, -77.0])
    book.save(path)
    table = read_plots(path, default_country="PE")
    assert list(table.plots["plot_id"]) == ["X1"]
    assert _row(table, "X1")["geometry"].coords[0] == (-77.0, -6.0)


# --- Shapefile (zip) and GeoPackage ----------------------------------------------------------


def _frame(crs: str, polygons: list[shapely.Polygon]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "Codigo": [f"S-{i}" for i in range(1, len(polygons) + 1)],
            "Productor": ["Ana Torres", "Luis Cruz"][: len(polygons)],
            "Area": [1.25, 3.0][: len(polygons)],
        },
        geometry=polygons,
        crs=crs,
    )


def _zip_shapefile(folder: Path, frame: gpd.GeoDataFrame, stem: str, zf: zipfile.ZipFile,
                   inside: str = "") -> None:  # fmt: skip
    frame.to_file(folder / f"{stem}.shp")
    for part in sorted(folder.glob(f"{stem}.*")):
        zf.write(part, f"{inside}{part.name}")


def test_shapefile_zip_every_layer_with_crs(tmp_path: Path) -> None:
    work = tmp_path / "shp"
    work.mkdir()
    geo = _frame("EPSG:4326", [shapely.box(-76.1, -5.7, -76.09, -5.69)])
    utm = _frame("EPSG:32717", [shapely.box(500000, 9300000, 500100, 9300100),
                                shapely.box(500200, 9300000, 500300, 9300100)])  # fmt: skip
    path = tmp_path / "parcelas.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        _zip_shapefile(work, geo, "sector_a", zf, inside="entrega/")
        _zip_shapefile(work, utm, "sector_b", zf)
    layers = read_layers(path, path.read_bytes())
    assert [lyr.layer for lyr in layers] == ["sector_a", "sector_b"]
    assert all(lyr.typed_properties for lyr in layers)
    assert layers[1].crs == "EPSG:32717"

    table = read_plots(path, default_country="PE")
    assert len(table.plots) == 3
    assert list(table.plots["source_layer"]) == ["sector_a", "sector_b", "sector_b"]
    assert list(table.plots["source_index"]) == [1, 1, 2]
    first = table.plots.iloc[0]
    assert first["plot_id"] == "S-1" and first["producer_name"] == "Ana Torres"
    assert first["declared_area_ha"] == 1.25
    assert first["geometry"].bounds == pytest.approx((-76.1, -5.7, -76.09, -5.69))
    reprojected = [f for f in table.findings if f.code is Code.CRS_REPROJECTED]
    assert len(reprojected) == 2
    assert -81.01 < table.plots.iloc[2]["geometry"].centroid.x < -80.99


def test_geopackage_utm_is_reprojected_and_layers_selectable(tmp_path: Path) -> None:
    path = tmp_path / "parcelas.gpkg"
    utm = _frame("EPSG:32717", [shapely.box(500000, 9300000, 500100, 9300100),
                                shapely.box(500200, 9300000, 500300, 9300100)])  # fmt: skip
    utm["Area"] = ["1.0", "2.0"]  # text in a typed format: reported
    utm.to_file(path, layer="campo", driver="GPKG")
    _frame("EPSG:4326", [shapely.box(-76.1, -5.7, -76.09, -5.69)]).to_file(
        path, layer="oficina", driver="GPKG"
    )
    table = read_plots(path, default_country="PE")
    assert list(table.plots["source_layer"]) == ["campo", "campo", "oficina"]
    s1 = table.plots.iloc[0]
    assert s1["plot_id"] == "S-1" and s1["declared_area_ha"] == 1.0
    assert s1["geometry"].geom_type == "Polygon"
    lon, lat = s1["geometry"].exterior.coords[0]
    assert -81.01 < lon < -80.99 and -6.34 < lat < -6.32
    campo = [f for f in table.findings if f.source_index == 1 and f.plot_id == "S-1"]
    codes = {f.code for f in campo}
    assert Code.CRS_REPROJECTED in codes and Code.AREA_IS_STRING in codes

    only = read_plots(path, layer="oficina", default_country="PE")
    assert list(only.plots["source_layer"]) == ["oficina"]
    assert only.plots.iloc[0]["declared_area_ha"] == 1.25
    assert not [f for f in only.findings if f.code is Code.CRS_REPROJECTED]


def test_csv_decimal_commas_in_comma_file_do_not_shift_coordinates(tmp_path: Path) -> None:
    path = tmp_path / "mal_separado.csv"
    path.write_text("codigo,lat,lon\nOK,-5.7,-76.1\nMAL,-5,7,-76,1\n", encoding="utf-8")
    table = read_plots(path, default_country="PE")
    assert _row(table, "OK")["geometry"].x == -76.1
    # '-5' and '7' must not become a plot in the wrong place.
    assert _row(table, "MAL")["geometry"] is None
    assert Code.GEOMETRY_MISSING in _codes(table, "MAL")


def test_csv_order_column_without_plot_id_keeps_points(tmp_path: Path) -> None:
    path = tmp_path / "puntos.csv"
    path.write_text("orden;productor;lat;lon\n1;Ana;-5.7;-76.1\n2;Luis;-5.8;-76.2\n", "utf-8")
    (layer,) = read_layers(path, path.read_bytes())
    assert [f.geometry["type"] for f in layer.features if f.geometry] == ["Point", "Point"]
    assert [f.index for f in layer.features] == [2, 3]


def test_xlsx_title_rows_above_header(tmp_path: Path) -> None:
    path = tmp_path / "padron.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Padrón de productores 2024 - Cooperativa Agraria"])
    sheet.append(["Fecha: 2024-05-01"])
    sheet.append(["Código", "Latitud", "Longitud"])
    sheet.append(["T-1", -5.7, -76.1])
    book.save(path)
    table = read_plots(path, default_country="PE")
    assert list(table.plots["plot_id"]) == ["T-1"]
    assert list(table.plots["source_index"]) == [4]


def test_shapefile_without_prj_is_unknown_crs(tmp_path: Path) -> None:
    work = tmp_path / "shp"
    work.mkdir()
    utm = _frame("EPSG:32717", [shapely.box(500000, 9300000, 500100, 9300100)])
    utm.to_file(work / "sin_prj.shp")
    path = tmp_path / "sin_prj.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for ext in ("shp", "shx", "dbf"):
            zf.write(work / f"sin_prj.{ext}", f"sin_prj.{ext}")
        zf.writestr("sin_prj.kml", GOOGLE_EARTH_KML)  # an extra export: the shapefile wins
    (layer,) = read_layers(path, path.read_bytes())
    assert (layer.layer, layer.crs) == ("sin_prj", None)
    table = read_plots(path, default_country="PE")
    assert Code.CRS_PROJECTED_UNKNOWN in _codes(table, "S-1")


# --- GeoJSON shapes ---------------------------------------------------------------------------


def test_geojson_single_feature_and_bare_geometry(tmp_path: Path) -> None:
    ring = [[-78.81, -5.71], [-78.80, -5.71], [-78.80, -5.70], [-78.81, -5.71]]
    single = tmp_path / "una.geojson"
    single.write_text(
        '{"type": "Feature", "id": "JAE-9", "properties": {"Productor": "Rosa Huamán", '
        '"PAIS": "pe", "Superficie": 1.5}, "geometry": {"type": "Polygon", "coordinates": ['
        + str(ring)
        + "]}}",
        encoding="utf-8",
    )
    table = read_plots(single)
    row = table.plots.iloc[0]
    assert (row["plot_id"], row["producer_name"], row["producer_country"]) == (
        "JAE-9",
        "Rosa Huamán",
        "PE",
    )
    assert row["declared_area_ha"] == 1.5 and row["source_index"] == 1
    bare = tmp_path / "geom.json"
    bare.write_text('{"type": "Point", "coordinates": [-78.81, -5.71]}', encoding="utf-8")
    plots = read_plots(bare, default_country="PE").plots
    assert plots.iloc[0]["plot_id"] == "geom-1"
    assert plots.geometry.iloc[0].coords[0] == (-78.81, -5.71)
