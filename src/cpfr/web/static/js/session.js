// Who is signed in, what the role may do, and the names behind the codes (partners, products, channels, categories).

import { all, api } from "./api.js";

// Mirrors cpfr.api.keys.PERMISSIONS, only to hide buttons: the server enforces it anyway.
const PERMISSIONS = {
  override: ["platform_admin", "platform_planner"],
  submit_forecast: ["partner_planner", "platform_admin"],
  comment: ["platform_admin", "platform_planner", "partner_planner"],
  propose: ["partner_planner"],
  edit_orders: ["platform_admin", "platform_planner", "partner_planner"],
};

export class Session {
  constructor(me) {
    this.me = me;
    this.partners = new Map();
    this.products = new Map();
    this.channels = new Map();
    this.categories = new Map();
  }

  /** Read the caller and the names it may see. */
  static async open() {
    const session = new Session(await api("/me"));
    const [partners, products, channels, categories] = await Promise.all([
      all("/partners"), all("/products"), all("/channels"), all("/categories"),
    ]);
    for (const row of partners) session.partners.set(row.partner_id, row);
    for (const row of products) session.products.set(row.sku_id, row);
    for (const row of channels) session.channels.set(row.channel_id, row);
    for (const row of categories) session.categories.set(row.category_id, row);
    return session;
  }

  get isPlatform() {
    return this.me.partner_id === null || this.me.partner_id === undefined;
  }

  /** Tell whether the role may take `action` (see PERMISSIONS). */
  can(action) {
    return (PERMISSIONS[action] || []).includes(this.me.role);
  }

  partnerName(partnerId) {
    if (!partnerId) return "platform";
    const row = this.partners.get(partnerId);
    return row ? row.name : partnerId;
  }

  productName(skuId) {
    const row = this.products.get(skuId);
    return row ? row.name : skuId;
  }

  /** "Xiaomi Phone 001 white (SKU00001)". */
  productLabel(skuId) {
    const row = this.products.get(skuId);
    return row ? `${row.name} (${skuId})` : skuId || "–";
  }

  channelName(channelId) {
    if (!channelId) return "all channels";
    const row = this.channels.get(channelId);
    return row ? row.name : channelId;
  }

  categoryName(categoryId) {
    const row = this.categories.get(categoryId);
    return row ? row.name : categoryId;
  }

  /** Product options for a <select>: grouped by partner for the platform. */
  productOptions(skuIds) {
    const chosen = (skuIds ? [...skuIds] : [...this.products.keys()]).filter((sku) => this.products.has(sku));
    const pairs = (list) => list
      .map((sku) => [sku, this.productLabel(sku)])
      .sort((left, right) => left[1].localeCompare(right[1]));
    if (!this.isPlatform) return pairs(chosen);
    const groups = {};
    for (const sku of chosen) {
      const partner = this.partnerName(this.products.get(sku).partner_id);
      (groups[partner] = groups[partner] || []).push(sku);
    }
    const ordered = {};
    for (const name of Object.keys(groups).sort()) ordered[name] = pairs(groups[name]);
    return ordered;
  }
}
