// osls compares a packaged layer with the one the deployed stack already has (to skip its
// upload), which needs AWS credentials even for `osls package`. Without credentials that
// comparison is skipped: the layer is packaged as new, which is what offline packaging wants.
'use strict';

class OfflineLayerPackaging {
  constructor(serverless) {
    const compiler = serverless.pluginManager.plugins.find(
      (plugin) => plugin.constructor.name === 'AwsCompileLayers',
    );
    if (!compiler) return;
    const compare = compiler.compareWithLastLayer.bind(compiler);
    compiler.compareWithLastLayer = async (layerName) => {
      try {
        await compare(layerName);
      } catch (err) {
        if (err && err.code === 'AWS_CREDENTIALS_NOT_FOUND') return;
        throw err;
      }
    };
  }
}

module.exports = OfflineLayerPackaging;
