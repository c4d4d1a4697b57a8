export { parseAddressRange } from './address-range.js';
export {
  type ClusterConfig,
  type Config,
  type IssuerConfig,
  type LoadOptions,
  loadConfigFile,
  type MappingConfig,
  type ProxyConfig,
  parseConfig,
  parseConfigText,
  type RedisConfig,
  type StoreConfig,
  type TokensConfig,
  type UpstreamConfig,
  type VerifierConfig,
} from './load.js';
export type { ConfigFileInput } from './schema.js';
