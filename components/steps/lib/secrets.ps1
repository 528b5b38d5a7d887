# Read-GiSecret -Variable NAME -Reference REF: read the secret a reference names into the
# process environment variable NAME with this machine's own identity (the instance profile on
# AWS, the build VM's managed identity on Azure). The value is never printed, never written to
# a file; the variable lives in this PowerShell process (and the processes it starts) only, and
# a step clears it after use with Clear-GiSecret. A failed read throws the reason, not the value.
# Steps that list `libraries: [secrets]` get this after their environment.
#   secretsmanager:<name> | arn:aws:secretsmanager:...  Get-SECSecretValue (AWS Tools for PowerShell,
#   ssm:/<path> | arn:aws:ssm:...:parameter/<path>    Get-SSMParameter     installed on AWS Windows AMIs)
#   https://<vault>.vault.azure.net/secrets/<name>     IMDS token for vault.azure.net, then
#                                                      GET <uri>?api-version=7.4 (Key Vault REST)
function Get-GiAwsRegion([string]$Reference) {
    if ($Reference -like 'arn:*') { return $Reference.Split(':')[3] }
    if ($env:AWS_REGION) { return $env:AWS_REGION }
    $token = Invoke-RestMethod -Method Put -Uri 'http://169.254.169.254/latest/api/token' -UseBasicParsing `
        -Headers @{ 'X-aws-ec2-metadata-token-ttl-seconds' = '60' } -TimeoutSec 10
    return Invoke-RestMethod -Uri 'http://169.254.169.254/latest/meta-data/placement/region' -UseBasicParsing `
        -Headers @{ 'X-aws-ec2-metadata-token' = $token } -TimeoutSec 10
}

function Import-GiAwsModule([string]$Module, [string]$Command) {
    # Windows AMIs carry either the AWSPowerShell module or the modular AWS.Tools.
    if (Get-Command $Command -ErrorAction SilentlyContinue) { return }
    foreach ($name in @("AWS.Tools.$Module", 'AWSPowerShell', 'AWSPowerShell.NetCore')) {
        if (Get-Module -ListAvailable -Name $name) { Import-Module $name; return }
    }
    throw "secret reader: the AWS Tools for PowerShell ($Command) are not on this image"
}

function Get-GiSecretValue([string]$Reference) {
    $ErrorActionPreference = 'Stop'  # in this function's scope: a failed call is an error, caught below
    if ($Reference -match '^(secretsmanager:|arn:aws[a-z-]*:secretsmanager:)') {
        Import-GiAwsModule 'SecretsManager' 'Get-SECSecretValue'
        $secret = Get-SECSecretValue -SecretId ($Reference -replace '^secretsmanager:', '') -Region (Get-GiAwsRegion $Reference)
        if ($null -eq $secret.SecretString) { throw "secret reader: $Reference has no SecretString (binary secrets are not read)" }
        return $secret.SecretString
    }
    if ($Reference -match '^(ssm:/|arn:aws[a-z-]*:ssm:)') {
        Import-GiAwsModule 'SimpleSystemsManagement' 'Get-SSMParameter'
        return (Get-SSMParameter -Name ($Reference -replace '^ssm:', '') -WithDecryption $true -Region (Get-GiAwsRegion $Reference)).Value
    }
    if ($Reference -match '^https://[A-Za-z0-9-]+\.vault\.azure\.net/secrets/') {
        $token = (Invoke-RestMethod -Uri 'http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net' `
            -Headers @{ Metadata = 'true' } -UseBasicParsing -TimeoutSec 30).access_token
        $answer = Invoke-RestMethod -Uri "${Reference}?api-version=7.4" -Headers @{ Authorization = "Bearer $token" } `
            -UseBasicParsing -TimeoutSec 30
        Remove-Variable token
        return $answer.value
    }
    throw "secret reader: '$Reference' is not a secret reference this helper reads"
}

function Read-GiSecret([string]$Variable, [string]$Reference) {
    $ErrorActionPreference = 'Stop'  # this function's scope only: a user script keeps its own preference
    if ($Variable -notmatch '^[A-Za-z_][A-Za-z0-9_]*$') { throw "secret reader: '$Variable' is not a variable name" }
    try {
        $value = Get-GiSecretValue $Reference
    } catch {
        throw "secret reader: could not read $Reference for $Variable with this machine's identity: $($_.Exception.Message)"
    }
    if ([string]::IsNullOrEmpty($value)) { throw "secret reader: $Reference for $Variable is empty" }
    [Environment]::SetEnvironmentVariable($Variable, $value, 'Process')
    Remove-Variable value
}

function Clear-GiSecret([string]$Variable) {
    [Environment]::SetEnvironmentVariable($Variable, $null, 'Process')
}
