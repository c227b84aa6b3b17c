// The console's Leaflet map: hubs, lockers, route lines, stops and vehicles. Markers are
// Leaflet divIcons styled by data attributes, so a state change is one attribute write.
// Without a tile server the map draws on a plain grid (offline), like the tracking page.
/* global L */
import { VEHICLE_TYPES } from './format.js';

const ICONS = '/static/dashboard/icons/';
// Route lines take these in turn, so neighbouring routes are told apart.
export const ROUTE_COLOURS = ['#1746a2', '#0e9384', '#c4320a', '#6941c6', '#b54708', '#2e90fa',
  '#dd2590', '#3b7c0f', '#7a5af8', '#155eef'];
const NEAR_ZOOM = 15; // from here on stops show their numbers
const calm = matchMedia('(prefers-reduced-motion: reduce)').matches;

function icon(html, cls, size) {
  return L.divIcon({ className: 'map-icon', html: `<span class="${cls}">${html}</span>`,
    iconSize: [size, size], iconAnchor: [size / 2, size / 2] });
}

const vehicleIcon = (type) => icon(`<img src="${ICONS}${VEHICLE_TYPES[type] ? type : 'van'}.svg" alt="">`,
  'vehicle-marker', 34);

export class FleetMap {
  constructor(element, { tileUrl, attribution, onSelect }) {
    this.map = L.map(element, { zoomSnap: 0.5, preferCanvas: false });
    if (tileUrl) {
      L.tileLayer(tileUrl, { maxZoom: 19, attribution: attribution || '' })
        .on('tileerror', () => element.classList.add('map--offline')).addTo(this.map);
    } else {
      element.classList.add('map--offline');
    }
    this.map.setView([38.72, -9.14], 12);
    const near = () => element.classList.toggle('map--near', this.map.getZoom() >= NEAR_ZOOM);
    this.map.on('zoomend', near);
    near();
    this.onSelect = onSelect;
    this.layers = { places: L.layerGroup().addTo(this.map), routes: L.layerGroup().addTo(this.map),
      stops: L.layerGroup().addTo(this.map), vehicles: L.layerGroup().addTo(this.map) };
    this.vehicles = new Map(); // vehicle id -> marker
    this.stops = new Map(); // stop id -> marker
    this.lines = new Map(); // route id -> polyline
    this.selected = null;
    this.fitted = false;
  }

  /** Hubs/depots and lockers/pick-up points. */
  setPlaces(depots, points) {
    this.layers.places.clearLayers();
    for (const d of depots) {
      L.marker([d.lat, d.lon], { icon: icon(`<img src="${ICONS}depot.svg" alt="">`,
        'place-marker', 26), title: `${d.name} (${d.kind})`, keyboard: false })
        .on('click', () => this.onSelect('depot', d.id)).addTo(this.layers.places);
    }
    for (const p of points) {
      L.marker([p.lat, p.lon], { icon: icon(`<img src="${ICONS}locker.svg" alt="">`,
        'place-marker place-marker--locker', 24), title: `${p.name} (${p.kind.replace('_', ' ')})`,
      keyboard: false }).on('click', () => this.onSelect('place', p.id))
        .addTo(this.layers.places);
    }
  }

  /**
   * Routes with their line and stops: [{id, colour, geometry, stops: [{id, lat, lon, state,
   * number}]}]. Replaces what was drawn.
   */
  setRoutes(routes) {
    this.layers.routes.clearLayers();
    this.layers.stops.clearLayers();
    this.lines.clear();
    this.stops.clear();
    for (const route of routes) {
      const coords = (route.geometry && route.geometry.coordinates) || [];
      if (coords.length > 1) {
        const line = L.polyline(coords.map(([lon, lat]) => [lat, lon]), {
          color: route.colour, weight: 4, opacity: 0.75, className: 'route-line' })
          .on('click', () => this.onSelect('route', route.id)).addTo(this.layers.routes);
        this.lines.set(route.id, line);
      }
      for (const stop of route.stops) {
        const marker = L.marker([stop.lat, stop.lon], {
          icon: icon(String(stop.number), 'stop-marker', 22), title: stop.title, keyboard: false,
        }).on('click', () => this.onSelect('stop', stop.id)).addTo(this.layers.stops);
        this.stops.set(stop.id, marker);
        this.setStopState(stop.id, stop.state);
      }
    }
    this.mark();
    if (!this.fitted) this.fit();
  }

  setStopState(stopId, state) {
    const el = this.element(this.stops.get(stopId));
    if (el) el.dataset.state = state;
  }

  /** Places (or glides) a vehicle's marker; `info` = {name, type, status}. */
  setVehicle(id, lat, lon, info) {
    let marker = this.vehicles.get(id);
    if (!marker) {
      marker = L.marker([lat, lon], { icon: vehicleIcon(info.type), title: info.name,
        keyboard: false, zIndexOffset: 1000 }).on('click', () => this.onSelect('vehicle', id))
        .addTo(this.layers.vehicles);
      this.vehicles.set(id, marker);
      this.mark();
    } else {
      glide(marker, lat, lon);
    }
    const el = this.element(marker);
    el.dataset.vehicle = id;
    el.dataset.status = info.status;
    el.dataset.lat = lat;
    el.dataset.lon = lon;
  }

  setVehicleStatus(id, status) {
    const el = this.element(this.vehicles.get(id));
    if (el) el.dataset.status = status;
  }

  select(kind, id) {
    this.selected = kind && { kind, id };
    this.mark();
  }

  focus(lat, lon) { this.map.panTo([lat, lon]); }

  fit() {
    const bounds = L.latLngBounds([]);
    for (const group of Object.values(this.layers)) {
      group.eachLayer((layer) => bounds.extend(layer.getLatLng ? layer.getLatLng()
        : layer.getBounds()));
    }
    if (bounds.isValid()) {
      this.map.fitBounds(bounds, { padding: [28, 28], maxZoom: 15 });
      this.fitted = true;
    }
  }

  mark() {
    const sel = this.selected;
    for (const [id, marker] of this.vehicles) {
      const el = this.element(marker);
      if (el) el.classList.toggle('is-selected', !!sel && sel.kind === 'vehicle' && sel.id === id);
    }
    for (const [id, marker] of this.stops) {
      const el = this.element(marker);
      if (el) el.classList.toggle('is-selected', !!sel && sel.kind === 'stop' && sel.id === id);
    }
  }

  element(marker) {
    const outer = marker && marker.getElement();
    return outer ? outer.firstElementChild : null;
  }
}

function glide(marker, lat, lon) { // tween to the new fix so a move reads as driving
  const from = marker.getLatLng(), t0 = performance.now(), span = calm ? 0 : 800;
  cancelAnimationFrame(marker.raf);
  const step = (now) => {
    const k = span ? Math.min(1, (now - t0) / span) : 1, e = k * (2 - k);
    marker.setLatLng([from.lat + (lat - from.lat) * e, from.lng + (lon - from.lng) * e]);
    if (k < 1) marker.raf = requestAnimationFrame(step);
  };
  if (span) marker.raf = requestAnimationFrame(step); else step(t0);
}

/**
 * What FleetMap.setRoutes draws for the board's routes (GET /v1/dispatch/board, each stop with
 * its display `state`, each route with its `colour`), with the route lines of the day's map
 * (GET /v1/dispatch/map).
 */
export function boardRoutes(routes, features) {
  const lines = new Map(features.features.filter((f) => f.properties.feature === 'route')
    .map((f) => [f.properties.route_id, f.geometry]));
  return routes.map((route) => ({
    id: route.route_id, colour: route.colour, geometry: lines.get(route.route_id),
    stops: route.stops.filter((s) => s.kind === 'stop').map((s) => ({
      id: s.stop_id, lat: s.lat, lon: s.lon, state: s.state, number: s.position,
      title: `${route.vehicle.name}, stop ${s.position}`,
    })),
  }));
}
