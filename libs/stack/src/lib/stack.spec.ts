import { stackOptionsFromEnv } from './stack';

describe('npm start’s settings', () => {
  const options = (env: NodeJS.ProcessEnv) => stackOptionsFromEnv('/vita', env, () => undefined);

  it('serves HTTPS on 8443 beside plain HTTP on 8080 by default; VITA_HTTPS_PORT moves it, VITA_HTTPS=off turns it off', () => {
    expect(options({}).lb).toEqual({ port: 8080, adminPort: 8404, listenHost: '0.0.0.0', httpsPort: 8443 });
    expect(options({ VITA_HTTPS_PORT: '9443', VITA_LB_HOST: '127.0.0.1' }).lb).toMatchObject({ port: 8080, httpsPort: 9443, listenHost: '127.0.0.1' });
    expect(options({ VITA_HTTPS: 'off' }).lb).toMatchObject({ port: 8080, httpsPort: undefined });
    expect(() => options({ VITA_HTTPS_PORT: '70000' })).toThrow('VITA_HTTPS_PORT must be a port number (1-65535)');
    expect(options({}).home).toBe('/vita/.vita');
  });
});
