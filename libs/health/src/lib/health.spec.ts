import { health } from './health';

describe('health', () => {
  it('should work', () => {
    expect(health()).toEqual('health');
  })
})
