import { mariadb } from './mariadb';

describe('mariadb', () => {
  it('should work', () => {
    expect(mariadb()).toEqual('mariadb');
  })
})
