// Plot maps drawn with the vendored Leaflet and, by default, no tile layer: nothing is fetched
// from outside, so the maps work on an offline server. The background is country outlines from
// the boundaries the service ships (/basemap.geojson). When the service is configured with an
// imagery layer (EUDR_CHECK_IMAGERY_URL, its host allowed by the page's CSP), the plot page
// shows it under the plot for reviewers. Plots are coloured by verdict, as in the badges.
(function () {
  "use strict";
  var COLOURS = {
    deforestation_free: "#2e7d32",
    needs_review: "#f9a825",
    deforestation_detected: "#c62828",
    undetermined: "#616161",
    unchecked: "#1565c0",
  };
  // Below this zoom a farm plot is a few pixels at most: a dot marks where it is.
  var DOT_ZOOM = 13;

  function style(verdict) {
    var colour = COLOURS[verdict || "unchecked"];
    return {
      color: colour, weight: 2, fillColor: colour, className: "plot",
      fillOpacity: verdict ? 0.45 : 0.05, dashArray: verdict ? null : "4 3",
    };
  }

  // Coordinates Leaflet can place: a plot with, say, latitude -95 (a broken file) is listed
  // in the table with its error but not drawn, and does not stretch the map to the poles.
  function placeable(coords) {
    if (typeof coords[0] === "number") {
      return Math.abs(coords[0]) <= 180 && Math.abs(coords[1]) <= 90;
    }
    return coords.every(placeable);
  }

  function drawable(f) {
    var g = f.geometry;
    if (!g) return false;
    if (g.type === "GeometryCollection") return g.geometries.every(function (x) {
      return placeable(x.coordinates);
    });
    return placeable(g.coordinates);
  }

  function imagery() {
    var el = document.getElementById("imagery");
    return el ? JSON.parse(el.textContent) : null;
  }

  function baseMap(div) {
    var map = L.map(div, { zoomSnap: 0.25 });
    L.control.scale({ imperial: false }).addTo(map);
    var tiles = imagery();
    if (tiles) {
      L.tileLayer(tiles.url, { attribution: tiles.attribution, maxZoom: 19 }).addTo(map);
      div.setAttribute("data-imagery", tiles.name);
    }
    return map;
  }

  function fit(map, layer) {
    map.fitBounds(layer.getBounds(), { padding: [24, 24], maxZoom: 17 });
  }

  function asLayer(collection, styleOf, popupOf) {
    return L.geoJSON(collection, {
      filter: drawable,
      style: function (f) { return styleOf(f); },
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, Object.assign({ radius: 7 }, styleOf(f)));
      },
      onEachFeature: popupOf ? function (f, layer) { layer.bindPopup(popupOf(f)); } : null,
    });
  }

  function addBasemap(map, bounds) {
    var box = bounds.pad(1);
    var bbox = [box.getWest(), box.getSouth(), box.getEast(), box.getNorth()]
      .map(function (v) { return v.toFixed(4); }).join(",");
    fetch("/basemap.geojson?bbox=" + bbox, { headers: { Accept: "application/geo+json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (outlines) {
        L.geoJSON(outlines, {
          interactive: false,
          style: { color: "#8c959f", weight: 1, fillColor: "#fbfbf8", fillOpacity: 1,
                   className: "country" },
        }).addTo(map).bringToBack();
      })
      .catch(function () { /* the plots alone still make a usable map */ });
  }

  // Results page: the listed plots, each opening its detail page.
  var results = document.getElementById("map");
  if (results) {
    var text = JSON.parse(document.getElementById("page-data").textContent);
    var popup = function (f) {
      var box = document.createElement("div");
      var link = document.createElement("a");
      link.href = "/plots/" + f.properties.id;
      link.textContent = f.properties.plot_id; // text, never HTML: ids come from uploads
      var open = document.createElement("div");
      open.textContent = text.open;
      box.append(link, open);
      return box;
    };
    fetch(results.getAttribute("data-src"), { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (collection) {
        var shown = collection.features.filter(drawable);
        if (!shown.length) {
          results.hidden = true;
          document.getElementById("map-empty").hidden = false;
          return;
        }
        var map = baseMap(results);
        var shapes = asLayer(collection, function (f) { return style(f.properties.verdict); }, popup);
        var dots = L.layerGroup();
        shapes.eachLayer(function (layer) {
          if (!layer.getBounds) return; // points are circle markers already
          var f = layer.feature;
          dots.addLayer(L.circleMarker(layer.getBounds().getCenter(), Object.assign(
            style(f.properties.verdict), { radius: 5, fillOpacity: 0.9, className: "plot-dot" }
          )).bindPopup(popup(f)));
        });
        shapes.addTo(map);
        var toggleDots = function () {
          if (map.getZoom() < DOT_ZOOM) dots.addTo(map); else dots.remove();
        };
        map.on("zoomend", toggleDots);
        fit(map, shapes);
        toggleDots();
        addBasemap(map, shapes.getBounds());
        results.setAttribute("data-features", String(shown.length));
      });
  }

  // Plot page: the plot (registered geometry) and, dashed, the original before repair.
  var small = document.getElementById("plot-map");
  if (small) {
    var shape = JSON.parse(document.getElementById("plot-shape").textContent);
    if (!shape.features.some(drawable)) {
      small.hidden = true;
      return;
    }
    var map = baseMap(small);
    var layer = asLayer(shape, function (f) {
      if (f.properties.kind === "original") {
        return { color: "#24292f", weight: 1.5, dashArray: "5 4", fill: false, className: "plot" };
      }
      return style(shape.verdict);
    });
    layer.addTo(map);
    fit(map, layer);
    if (!imagery()) addBasemap(map, layer.getBounds());
  }
})();
