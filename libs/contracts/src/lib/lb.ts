// Load balancer stats and admin DTOs (apps/lb).
export {};
