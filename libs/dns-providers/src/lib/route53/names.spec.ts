import { canonicalValue, canonicalValues, decodeRoute53Name, fqdn, normalName, sameName } from './names';

describe('route53 names', () => {
  it('normalName drops the trailing dot and lower-cases', () => {
    expect(normalName(' WWW.Example.com. ')).toBe('www.example.com');
    expect(fqdn('www.example.com')).toBe('www.example.com.');
    expect(fqdn('www.example.com.')).toBe('www.example.com.');
  });

  it('decodeRoute53Name undoes the octal escapes of listed names', () => {
    expect(decodeRoute53Name('\\052.example.com.')).toBe('*.example.com');
    expect(decodeRoute53Name('a\\100b.example.com.')).toBe('a@b.example.com');
    expect(sameName('\\052.EXAMPLE.com.', '*.example.com')).toBe(true);
    expect(sameName('www.example.com.example.com.', 'www.example.com')).toBe(false);
  });

  it('canonicalValue keeps valid IPv4, writes IPv6 in RFC 5952 form, and refuses the rest', () => {
    expect(canonicalValue('A', '192.0.2.1')).toBe('192.0.2.1');
    expect(canonicalValue('A', '2001:db8::1')).toBeUndefined();
    expect(canonicalValue('A', '192.0.2.256')).toBeUndefined();
    expect(canonicalValue('AAAA', '2001:0DB8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1');
    expect(canonicalValue('AAAA', '2001:db8:0:1:0:0:0:1')).toBe('2001:db8:0:1::1');
    expect(canonicalValue('AAAA', '192.0.2.1')).toBeUndefined();
  });

  it('canonicalValues de-duplicates and sorts, naming a bad value', () => {
    expect(canonicalValues('AAAA', ['2001:db8::2', '2001:DB8::1', '2001:db8:0::2'])).toEqual(['2001:db8::1', '2001:db8::2']);
    expect(() => canonicalValues('A', ['192.0.2.1', 'nope'])).toThrow("'nope' is not an IPv4 address");
  });
});
