import { RecordingNetworkDriver } from '../../../../../compute/network/driver/recording.ts';
import { networkDriverSuite } from '../../../../conformance/network-driver.ts';

networkDriverSuite('recording', async () => {
  const driver = new RecordingNetworkDriver();
  return {
    driver,
    observe: async () => {
      const plan = await driver.current();
      const lines = plan.iptables.ipv4;
      return {
        bridges: plan.bridges,
        devices: plan.devices.filter((d) => d.kind === 'veth').map((d) => d.name),
        chains: lines.filter((l) => l.startsWith(':')).map((l) => l.slice(1).split(' ')[0] ?? '').sort(),
        rules: lines.filter((l) => l.startsWith('-A neutron-linuxbri-')),
      };
    },
    cleanup: async () => {},
  };
});
