// Next.js defaults: compression on, as in production.
export default {};
